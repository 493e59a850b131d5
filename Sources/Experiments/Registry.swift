// Every experiment `infoplane reproduce` knows, by suite. Each suite's
// experiments are defined in their own files and listed here once.

/// The experiments of each suite, in the order `--help` lists them.
public enum Experiments {
    /// The suites with their one-line descriptions.
    public static let suites: [(name: String, abstract: String)] = [
        ("saxe2018", "Saxe et al., \"On the Information Bottleneck Theory of Deep Learning\" (ICLR 2018)"),
        ("adamw", "Loshchilov & Hutter, \"Fixing Weight Decay Regularization in Adam\" (decoupled weight decay, SGDR)"),
        ("mixup", "Zhang et al., \"mixup: Beyond Empirical Risk Minimization\" (ICLR 2018), corrupted labels"),
        ("karras2018", "Karras et al., \"Progressive Growing of GANs for Improved Quality, Stability, and Variation\" (ICLR 2018), on Fashion-MNIST"),
        ("airnet", "the AirNet submission to ICLR 2018: ReducedLSTM and WipeNet air-quality forecasts on a simulated field"),
        ("gu2018", "Gu et al., \"Non-Autoregressive Neural Machine Translation\" (ICLR 2018), synthetic and Apertium English-Spanish corpora"),
    ]

    /// All experiments.
    public static let all: [Experiment] =
        saxe2018TwelveBit + saxe2018FashionMNIST + saxe2018Linear + adamw + mixupCorruptedLabels + karras2018 + airnet + gu2018

    /// The experiments of one suite.
    public static func suite(_ name: String) -> [Experiment] { all.filter { $0.suite == name } }

    /// One experiment by suite and name.
    public static func find(suite: String, name: String) -> Experiment? {
        all.first { $0.suite == suite && $0.name == name }
    }
}
