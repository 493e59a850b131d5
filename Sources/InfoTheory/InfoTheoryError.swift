// The errors the estimators throw for bad input.
//
// These are user errors (a file with a NaN in it, labels for another dataset), not programmer
// errors: they are thrown, never trapped. They carry the row and column of the offending value
// but no file name, because the estimators only see arrays; the command-line tool wraps them
// with the file it read (see `InfoTheoryError.description`).

/// A problem with the arrays handed to an estimator.
///
/// Rows and columns are 0-based, as in NumPy (`activations[row, column]`).
public enum InfoTheoryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The layer has no rows or no columns.
    case emptyLayer(rows: Int, columns: Int)
    /// The activations have `activationRows` rows but the labels (or inputs) have `expected`.
    case rowCountMismatch(activationRows: Int, expected: Int, what: String)
    /// A NaN or an infinity at `activations[row, column]`.
    case nonFinite(row: Int, column: Int, value: Float)
    /// `floor(value / width)` does not fit in a 62-bit bin index (a huge activation or a tiny width).
    case binIndexOutOfRange(row: Int, column: Int, value: Float)
    /// An estimator parameter is out of its domain (for example 1 bin, or a negative variance).
    case invalidParameter(String)
    /// An error raised while estimating one layer at one epoch of a run.
    indirect case atLayerEpoch(epoch: Int, layer: Int, underlying: InfoTheoryError)

    public var description: String {
        switch self {
        case let .emptyLayer(rows, columns):
            return "empty layer: \(rows) rows x \(columns) columns"
        case let .rowCountMismatch(activationRows, expected, what):
            return "activations have \(activationRows) rows but the \(what) have \(expected)"
        case let .nonFinite(row, column, value):
            return "non-finite activation \(value) at row \(row), column \(column)"
        case let .binIndexOutOfRange(row, column, value):
            return "activation \(value) at row \(row), column \(column) gives a bin index out of range"
        case let .invalidParameter(message):
            return "invalid estimator parameter: \(message)"
        case let .atLayerEpoch(epoch, layer, underlying):
            return "epoch \(epoch), layer \(layer): \(underlying)"
        }
    }
}
