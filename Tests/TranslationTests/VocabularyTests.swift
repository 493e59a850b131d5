// Tokenization and vocabularies of the translation subject.

import Foundation
import Testing
import Translation

@Test func tokenize_splits_words_from_punctuation_and_lowercases() {
    #expect(tokenize("¿Dónde está el gato?") == ["¿", "dónde", "está", "el", "gato", "?"])
    #expect(tokenize("  The cat, 12 dogs.  ") == ["the", "cat", ",", "12", "dogs", "."])
    #expect(tokenize("") == [])
}

@Test func vocabulary_numbers_specials_first_then_tokens_by_count() {
    let v = Vocabulary(sentences: [["b", "a", "c"], ["a", "c", "d"], ["a"]])
    #expect(v.tokens == Vocabulary.specials + ["a", "c", "b", "d"])
    #expect(v.encode(["a", "d", "zzz"]) == [4, 7, Vocabulary.unknown])
    #expect(v.decode([Vocabulary.start, 4, 5, Vocabulary.padding, 6, Vocabulary.end, 7]) == ["a", "c", "b"])
    let rare = Vocabulary(sentences: [["b", "a", "c"], ["a", "c", "d"], ["a"]], minimumCount: 2)
    #expect(rare.tokens == Vocabulary.specials + ["a", "c"])
}

@Test func vocabulary_round_trips_through_json_and_refuses_a_malformed_one() throws {
    let v = Vocabulary(sentences: [["x", "y", "x"]])
    let data = try JSONEncoder().encode(v)
    #expect(try JSONDecoder().decode(Vocabulary.self, from: data) == v)
    #expect(throws: DecodingError.self) {
        try JSONDecoder().decode(Vocabulary.self, from: Data(#"{"tokens":["a","<s>"]}"#.utf8))
    }
}
