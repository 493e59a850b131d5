// The small classifier of the real images whose features the Fréchet
// distance compares and whose predictions the class coverage counts
// (SampleMetrics.swift): part of the experiment, trained with a seed on the
// run's own training images and cached beside the run.
//
// Architecture, for images C x R x R (R ≥ 8): per halving down to 4x4, a 3x3
// convolution (16 maps, then 32) with ReLU and 2x2 average pooling; the 4x4
// maps flattened into 64 features with ReLU (the features the distance
// compares); a linear layer to one logit per class. He's initialization
// from the seed, biases 0; Adam (lr 0.001, β = (0.9, 0.999)) on the mean
// cross-entropy, minibatches of 32 drawn by a fresh seeded permutation per
// pass over the images, one BLAS thread: the same seed gives the same bytes.
//
// The cache (an .npz): the parameters by name, and `meta/seed`,
// `meta/steps`, `meta/batch_size`, `meta/channels`, `meta/resolution`,
// `meta/classes` (int64 scalars); a cache trained otherwise than asked is
// refused, naming the file and the difference.

import ArrayIO
import Autodiff
import NeuralNets
import Tensors

/// How the classifier is trained.
public struct FeatureClassifierSettings: Sendable, Equatable {
    public var seed: UInt64
    /// Adam steps.
    public var steps: Int
    public var batchSize: Int

    public init(seed: UInt64 = 1, steps: Int = 1500, batchSize: Int = 32) {
        self.seed = seed
        self.steps = steps
        self.batchSize = batchSize
    }
}

/// The classifier: its layers and parameters.
public struct FeatureClassifier: Sendable {
    public let channels: Int, resolution: Int, classes: Int
    public let settings: FeatureClassifierSettings
    public var parameters: ParameterStore
    let convolutions: [Conv2D]
    let hidden: Linear, output: Linear

    /// The number of features (the hidden layer's width).
    public static let featureCount = 64

    /// An untrained classifier (weights from the seed).
    /// - Precondition: R is a power of two of at least 8, classes ≥ 2.
    public init(channels: Int, resolution: Int, classes: Int, settings: FeatureClassifierSettings) {
        precondition(resolution >= 8 && resolution & (resolution - 1) == 0 && classes >= 2 && channels >= 1,
                     "FeatureClassifier: \(channels)x\(resolution)x\(resolution) images, \(classes) classes")
        self.channels = channels
        self.resolution = resolution
        self.classes = classes
        self.settings = settings
        var rng = RandomGenerator(seed: settings.seed)
        var store = ParameterStore()
        var convolutions = [Conv2D](), side = resolution, width = channels
        let he = WeightInitialization.he(gain: Float(2).squareRoot())
        while side > 4 {
            let maps = convolutions.isEmpty ? 16 : 32
            convolutions.append(Conv2D("c.conv\(convolutions.count)", inputChannels: width, outputChannels: maps, kernel: 3, padding: 1,
                                       initialization: he, store: &store, rng: &rng))
            width = maps
            side /= 2
        }
        hidden = Linear("c.features", inputFeatures: width * 16, outputFeatures: Self.featureCount, initialization: he,
                        store: &store, rng: &rng)
        output = Linear("c.logits", inputFeatures: Self.featureCount, outputFeatures: classes,
                        initialization: .he(gain: 1), store: &store, rng: &rng)
        self.convolutions = convolutions
        parameters = store
    }

    /// Features [N, 64] and logits [N, classes] of images [N, C, R, R].
    func forward(_ x: Variable, _ p: BoundParameters) -> (features: Variable, logits: Variable) {
        var h = x
        for conv in convolutions { h = conv(h, p).relu().averagePooled2x2() }
        let n = x.shape[0]
        let f = hidden(h.reshaped([n, h.value.count / n]), p).relu()
        return (f, output(f, p))
    }

    /// Features [N, 64] and logits [N, classes] of images [N, C, R, R] in
    /// [-1, 1], computed 256 at a time on one BLAS thread.
    /// - Precondition: the images have the classifier's channels and resolution.
    public func evaluate(_ images: Tensor) -> (features: Tensor, logits: Tensor) {
        precondition(images.rank == 4 && Array(images.shape.dropFirst()) == [channels, resolution, resolution],
                     "FeatureClassifier: images \(images.shape), expected [N, \(channels), \(resolution), \(resolution)]")
        let n = images.shape[0]
        var features = [Float](), logits = [Float]()
        BLAS.withThreads(1) {
            for start in stride(from: 0, to: n, by: 256) {
                let tape = Tape()
                let (f, z) = forward(tape.constant(images.rows(start..<min(n, start + 256))),
                                     parameters.bind(to: tape, requiringGradients: false))
                features += f.value.scalars
                logits += z.value.scalars
            }
        }
        return (Tensor(shape: [n, Self.featureCount], scalars: features), Tensor(shape: [n, classes], scalars: logits))
    }

    /// The class of highest logit of each image (the first on a tie).
    public func predictions(_ images: Tensor) -> [Int] {
        let z = evaluate(images).logits.scalars, k = classes
        return (0..<images.shape[0]).map { i in
            var best = 0
            for c in 1..<k where z[i * k + c] > z[i * k + best] { best = c }
            return best
        }
    }

    /// A classifier trained on `images` (its labels, 0..<classes).
    /// - Throws: `FileError` naming `source` when the images have fewer than two classes.
    public static func train(_ images: TrainingImages, settings: FeatureClassifierSettings, source: String) throws -> FeatureClassifier {
        let classes = (images.labels.max() ?? 0) + 1
        guard classes >= 2, images.labels.allSatisfy({ $0 >= 0 }) else {
            throw FileError(path: source, reason: "the images have no classes (labels 0...\(classes - 1)): the Fréchet distance "
                            + "and class coverage need a classifier of labelled images")
        }
        guard images.resolution >= 8 else {
            throw FileError(path: source, reason: "images of \(images.resolution)x\(images.resolution): the classifier needs 8x8 at least")
        }
        var model = FeatureClassifier(channels: images.channels, resolution: images.resolution, classes: classes, settings: settings)
        var adam = Adam(learningRate: 1e-3)
        var rng = RandomGenerator(seed: settings.seed &+ 1)
        var order = [Int](), position = 0
        BLAS.withThreads(1) {
            for _ in 0..<settings.steps {
                var picked = [Int]()
                while picked.count < settings.batchSize {
                    if position == order.count { order = rng.permutation(images.count); position = 0 }
                    picked.append(order[position])
                    position += 1
                }
                let tape = Tape()
                let p = model.parameters.bind(to: tape)
                let loss = crossEntropy(logits: model.forward(tape.constant(images.batch(picked)), p).logits,
                                        labels: picked.map { images.labels[$0] })
                adam.update(&model.parameters.tensors, gradients: p.gradients(of: loss), multiplier: 1)
            }
        }
        return model
    }

    /// The .npz of the parameters and how they were trained.
    public func encoded() throws -> [UInt8] {
        var arrays = zip(parameters.names, parameters.tensors).map { ($0, NPYArray(floats: $1.scalars, shape: $1.shape)) }
        for (name, v) in [("seed", Int64(bitPattern: settings.seed)), ("steps", Int64(settings.steps)),
                          ("batch_size", Int64(settings.batchSize)), ("channels", Int64(channels)),
                          ("resolution", Int64(resolution)), ("classes", Int64(classes))] {
            arrays.append(("meta/" + name, NPYArray(int64s: [v], shape: [])))
        }
        return try NPZ.encode(arrays)
    }

    /// The classifier cached in `path` if it exists (it must have been
    /// trained as asked), else trained on `images` and written there atomically.
    /// - Throws: `FileError` naming the cache for one trained otherwise, or damaged.
    public static func cached(at path: String, images: TrainingImages, settings: FeatureClassifierSettings,
                              source: String) throws -> FeatureClassifier {
        if AtomicFile.exists(path) { return try load(path, images: images, settings: settings) }
        let model = try train(images, settings: settings, source: source)
        try AtomicFile.write(model.encoded(), to: path)
        return model
    }

    /// The classifier in `path`, checked against what `images` and `settings` ask for.
    static func load(_ path: String, images: TrainingImages, settings: FeatureClassifierSettings) throws -> FeatureClassifier {
        var byName = [String: NPYArray]()
        for (name, array) in try NPZ.read(path: path) { byName[name] = array }
        func meta(_ name: String) throws -> Int64 {
            guard let v = try? byName["meta/" + name]?.int64s(), v.count == 1 else {
                throw FileError(path: path, reason: "not a classifier cache: no meta/\(name)")
            }
            return v[0]
        }
        let classes = Int(try meta("classes"))
        let trained = FeatureClassifierSettings(seed: UInt64(bitPattern: try meta("seed")), steps: Int(try meta("steps")),
                                                batchSize: Int(try meta("batch_size")))
        let shape = (Int(try meta("channels")), Int(try meta("resolution")))
        let asked = (images.channels, images.resolution), askedClasses = (images.labels.max() ?? 0) + 1
        guard trained == settings, shape == asked, classes == askedClasses, classes >= 2, shape.1 >= 8, shape.1 & (shape.1 - 1) == 0 else {
            throw FileError(path: path, reason: "a classifier of \(shape.0)x\(shape.1)x\(shape.1) images and \(classes) classes, "
                            + "seed \(trained.seed), \(trained.steps) steps of \(trained.batchSize); asked for \(asked.0)x\(asked.1)x\(asked.1), "
                            + "\(askedClasses) classes, seed \(settings.seed), \(settings.steps) steps of \(settings.batchSize) "
                            + "(remove it, or give another cache path)")
        }
        var model = FeatureClassifier(channels: shape.0, resolution: shape.1, classes: classes, settings: settings)
        for (i, name) in model.parameters.names.enumerated() {
            guard let a = byName[name], a.shape == model.parameters.tensors[i].shape else {
                throw FileError(path: path, reason: "damaged classifier cache: no parameter \"\(name)\" of shape \(model.parameters.tensors[i].shape)")
            }
            let values = a.floats()
            guard values.allSatisfy(\.isFinite) else { throw FileError(path: path, reason: "parameter \"\(name)\" is not finite") }
            model.parameters.tensors[i] = Tensor(shape: a.shape, scalars: values)
        }
        return model
    }
}
