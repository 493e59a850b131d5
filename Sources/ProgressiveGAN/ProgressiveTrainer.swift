// Progressive training (Karras et al. 2018, §2 and App. A.1): one critic step
// and one generator step per minibatch (n_critic = 1), Adam with lr 0.001,
// β₁ = 0, β₂ = 0.99, ε = 10⁻⁸ for both networks, and an exponential moving
// average of the generator's weights (β = 0.999) for sampling.
//
// The average is updated after the generator's step, with its new weights;
// the authors' code runs the update beside the critic's step, with the
// weights before it, which lags the average by one step.
//
// Each network's parameters for every stage exist from the start and all of
// them stay trainable; a step updates those the current level reads. When
// the level's phase changes (a fade-in begins and new layers appear, or it
// ends and the previous toRGB/fromRGB drop out) both optimizers start from a
// fresh state, as the authors' code does (`reset_opt_for_new_lod`): Adam's
// moments and its bias correction then refer to one set of layers.
//
// A step is a pure function of the trainer's state: the seed fixes the
// weights, the order of the reals (a fresh seeded permutation per pass over
// the data), the latents and the penalty's mixing weights, so the same seed
// gives the same numbers at the same BLAS thread count.
//
// `state` is everything a step reads; a trainer made from a saved state
// continues bit for bit as the original would have. Not here: the run
// directory and checkpoint files (a later layer writes `state`), metrics,
// label conditioning.

import Autodiff
import NeuralNets
import Tensors

/// Everything that fixes a progressive run.
public struct ProgressiveTrainingConfiguration: Sendable, Equatable, Codable {
    public var architecture: GANArchitecture
    public var schedule: GrowthSchedule
    /// Real images per step (and fakes per step).
    public var batchSize: Int
    /// Adam's learning rate, for both networks.
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var loss: WGANGPLoss
    /// β of the generator's moving average.
    public var averageDecay: Float
    public var seed: UInt64

    /// The paper's settings (Adam 0.001, 0, 0.99, 10⁻⁸; λ = 10, ε_drift = 0.001;
    /// EMA 0.999) at the given scale.
    public init(architecture: GANArchitecture = GANArchitecture(), schedule: GrowthSchedule? = nil, batchSize: Int = 16,
                learningRate: Float = 1e-3, beta1: Float = 0, beta2: Float = 0.99, epsilon: Float = 1e-8,
                loss: WGANGPLoss = WGANGPLoss(), averageDecay: Float = 0.999, seed: UInt64 = 1) {
        precondition(batchSize >= 1, "ProgressiveTrainingConfiguration: batch size \(batchSize)")
        self.architecture = architecture
        self.schedule = schedule ?? GrowthSchedule(stageCount: architecture.stageCount, stabilizationImages: 16_000,
                                                   fadeInImages: 16_000)
        precondition(self.schedule.stageCount == architecture.stageCount,
                     "ProgressiveTrainingConfiguration: schedule of \(self.schedule.stageCount) stages for \(architecture.stageCount)")
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.loss = loss
        self.averageDecay = averageDecay
        self.seed = seed
    }
}

/// What one training step did, logged every step.
public struct GANStepRecord: Sendable, Equatable {
    /// Steps taken, this one included (1 for the first).
    public var step: Int
    /// The level the step trained at.
    public var level: GrowthLevel
    /// The side of the images at that level.
    public var resolution: Int
    /// Real images shown to the critic after this step.
    public var imagesShown: Int
    /// L_D, L_G and the unweighted penalty E[(‖∇D(x̂)‖ - 1)²].
    public var criticLoss, generatorLoss, gradientPenalty: Float
    /// The critic's mean scores of the step's reals and fakes.
    public var realScore, fakeScore: Float

    /// The column names of `csvRow`.
    public static let csvHeader = "step,stage,resolution,alpha,fading_in,images_shown,critic_loss,generator_loss,gradient_penalty,real_score,fake_score"

    /// The record as one CSV line (no newline).
    public var csvRow: String {
        "\(step),\(level.stage),\(resolution),\(level.alpha),\(level.isFadingIn ? 1 : 0),\(imagesShown),"
            + "\(criticLoss),\(generatorLoss),\(gradientPenalty),\(realScore),\(fakeScore)"
    }
}

/// Everything that changes while a progressive GAN trains: with the
/// configuration and the images, it determines every later step.
public struct ProgressiveTrainerState: Sendable, Equatable {
    public var generatorParameters: ParameterStore
    public var discriminatorParameters: ParameterStore
    public var averagedGenerator: ParameterStore
    /// The optimizers' moments and step counts (of the current phase).
    public var generatorOptimizer: OptimizerState
    public var discriminatorOptimizer: OptimizerState
    /// The schedule's phase the optimizers belong to (-1 before the first step).
    public var phase: Int
    public var imagesShown: Int
    public var steps: Int
    /// The generator of latents and mixing weights, and that of the data order.
    public var noise: RandomGenerator
    public var shuffling: RandomGenerator
    /// The current pass's order of the images and the position in it.
    public var order: [Int]
    public var position: Int
}

/// A progressive GAN in training: both networks, their optimizers, the
/// generator's moving average and the position in the schedule.
public struct ProgressiveTrainer: Sendable {
    public let configuration: ProgressiveTrainingConfiguration
    public let generator: ProgressiveGenerator
    public let discriminator: ProgressiveDiscriminator
    public private(set) var generatorParameters: ParameterStore
    public private(set) var discriminatorParameters: ParameterStore
    /// The moving average of the generator's parameters, for samples.
    public private(set) var averagedGenerator: ParameterStore
    /// Real images shown to the critic so far.
    public private(set) var imagesShown = 0
    /// Steps taken so far.
    public private(set) var steps = 0
    /// The optimizers of the current phase.
    public private(set) var generatorOptimizer: Adam
    public private(set) var discriminatorOptimizer: Adam
    /// The phase the optimizers belong to (-1 before the first step).
    public private(set) var phase = -1
    /// The indices into the stores of the parameters the current level reads.
    var generatorActive: [Int] = [], discriminatorActive: [Int] = []
    /// The real images.
    public let images: TrainingImages
    /// Latents and mixing weights.
    var noise: RandomGenerator
    /// The order of the reals.
    var shuffling: RandomGenerator
    var order: [Int] = []
    var position = 0

    /// Networks drawn from `RandomGenerator(seed: configuration.seed)` (G
    /// first, then D), the average starting at G.
    /// - Precondition: the images have the architecture's channels and final resolution.
    public init(configuration: ProgressiveTrainingConfiguration, images: TrainingImages) {
        let a = configuration.architecture
        precondition(images.channels == a.imageChannels && images.resolution == a.finalResolution,
                     "ProgressiveTrainer: images of \(images.channels)x\(images.resolution)x\(images.resolution) for a "
                     + "\(a.imageChannels)-channel \(a.finalResolution)x\(a.finalResolution) architecture")
        precondition(images.count >= 1, "ProgressiveTrainer: no images")
        self.configuration = configuration
        self.images = images
        var rng = RandomGenerator(seed: configuration.seed)
        var g = ParameterStore(), d = ParameterStore()
        generator = ProgressiveGenerator(a, store: &g, rng: &rng)
        discriminator = ProgressiveDiscriminator(a, store: &d, rng: &rng)
        generatorParameters = g
        discriminatorParameters = d
        averagedGenerator = g
        noise = RandomGenerator(seed: configuration.seed &+ 1)
        shuffling = RandomGenerator(seed: configuration.seed &+ 2)
        generatorOptimizer = ProgressiveTrainer.optimizer(configuration)
        discriminatorOptimizer = ProgressiveTrainer.optimizer(configuration)
    }

    /// A trainer that continues from `state` (saved from a trainer with the
    /// same configuration and images).
    /// - Precondition: the state's parameters have the configuration's names and shapes.
    public init(configuration: ProgressiveTrainingConfiguration, images: TrainingImages, resumingFrom state: ProgressiveTrainerState) {
        self.init(configuration: configuration, images: images)
        func check(_ a: ParameterStore, _ b: ParameterStore, _ what: String) {
            precondition(a.names == b.names && zip(a.tensors, b.tensors).allSatisfy { $0.shape == $1.shape },
                         "ProgressiveTrainer: the saved \(what) does not fit this configuration")
        }
        check(state.generatorParameters, generatorParameters, "generator")
        check(state.averagedGenerator, generatorParameters, "averaged generator")
        check(state.discriminatorParameters, discriminatorParameters, "critic")
        precondition(state.order.allSatisfy { $0 >= 0 && $0 < images.count } && state.position <= state.order.count,
                     "ProgressiveTrainer: the saved data order does not fit \(images.count) images")
        generatorParameters = state.generatorParameters
        discriminatorParameters = state.discriminatorParameters
        averagedGenerator = state.averagedGenerator
        (imagesShown, steps, noise, shuffling, order, position) =
            (state.imagesShown, state.steps, state.noise, state.shuffling, state.order, state.position)
        if state.phase >= 0 {
            // The parameters a phase reads depend on its stage and on
            // whether it fades in, not on α.
            let stage = (state.phase + 1) / 2
            enter(phase: state.phase, level: state.phase % 2 == 1 ? .fadingIn(stage, alpha: 0) : .stable(stage))
        }
        generatorOptimizer.state = state.generatorOptimizer
        discriminatorOptimizer.state = state.discriminatorOptimizer
    }

    /// Everything a later step reads (see `init(configuration:images:resumingFrom:)`).
    public var state: ProgressiveTrainerState {
        ProgressiveTrainerState(generatorParameters: generatorParameters, discriminatorParameters: discriminatorParameters,
                                averagedGenerator: averagedGenerator, generatorOptimizer: generatorOptimizer.state,
                                discriminatorOptimizer: discriminatorOptimizer.state, phase: phase, imagesShown: imagesShown,
                                steps: steps, noise: noise, shuffling: shuffling, order: order, position: position)
    }

    static func optimizer(_ c: ProgressiveTrainingConfiguration) -> Adam {
        Adam(learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon)
    }

    /// The level the next step trains at.
    public var level: GrowthLevel { configuration.schedule.level(afterImages: imagesShown) }

    /// Whether the schedule's images have all been shown.
    public var isFinished: Bool { imagesShown >= configuration.schedule.totalImages }

    /// The next minibatch's indices into the images.
    mutating func nextIndices() -> [Int] {
        var picked = [Int]()
        picked.reserveCapacity(configuration.batchSize)
        while picked.count < configuration.batchSize {
            if position == order.count {
                order = shuffling.permutation(images.count)
                position = 0
            }
            picked.append(order[position])
            position += 1
        }
        return picked
    }

    /// N standard-normal latents [N, latentDimension].
    mutating func drawLatents(_ n: Int) -> Tensor {
        let d = configuration.architecture.latentDimension
        return Tensor(shape: [n, d], scalars: (0..<(n * d)).map { _ in Float(noise.normal()) })
    }

    /// Starts a new phase: fresh optimizers over the parameters `level` reads.
    mutating func enter(phase newPhase: Int, level: GrowthLevel) {
        phase = newPhase
        generatorOptimizer = ProgressiveTrainer.optimizer(configuration)
        discriminatorOptimizer = ProgressiveTrainer.optimizer(configuration)
        func indices(_ names: [String], _ store: ParameterStore) -> [Int] {
            names.map { name in store.names.firstIndex(of: name)! }
        }
        generatorActive = indices(generator.parameterNames(at: level), generatorParameters)
        discriminatorActive = indices(discriminator.parameterNames(at: level), discriminatorParameters)
    }

    /// One critic step and one generator step on the next minibatch.
    @discardableResult
    public mutating func step() -> GANStepRecord {
        let c = configuration, level = self.level, n = c.batchSize
        let resolution = c.architecture.resolution(ofStage: level.stage)
        let currentPhase = c.schedule.phase(afterImages: imagesShown)
        if currentPhase != phase { enter(phase: currentPhase, level: level) }

        // The critic: L_D on reals, fakes of the current G, and their mixtures.
        let reals = images.batch(nextIndices()).realImages(at: level, resolution: resolution)
        let criticLatents = drawLatents(n)
        let mixing = (0..<n).map { _ in noise.nextFloat() }
        let (critic, criticGradients): (WGANGPLoss.CriticTerms, [Tensor]) = {
            let tape = Tape()
            let pG = generatorParameters.bind(to: tape, requiringGradients: false)
            let pD = discriminatorParameters.bind(to: tape)
            let fakes = generator(tape.constant(criticLatents), pG, level: level).value
            let terms = c.loss.criticTerms(discriminator, pD, real: reals, fake: fakes, mixing: mixing, level: level)
            return (terms, tape.gradients(of: terms.loss, withRespectTo: discriminatorActive.map { pD.variables[$0] }))
        }()
        ProgressiveTrainer.update(&discriminatorParameters, indices: discriminatorActive, gradients: criticGradients,
                                  optimizer: &discriminatorOptimizer)

        // The generator: L_G = -E[D(G(z))] against the updated critic.
        let generatorLatents = drawLatents(n)
        let (generatorLoss, generatorGradients): (Float, [Tensor]) = {
            let tape = Tape()
            let pG = generatorParameters.bind(to: tape)
            let pD = discriminatorParameters.bind(to: tape, requiringGradients: false)
            let scores = discriminator(generator(tape.constant(generatorLatents), pG, level: level), pD, level: level)
            let loss = c.loss.generatorLoss(fakeScores: scores)
            return (loss.value.scalar, tape.gradients(of: loss, withRespectTo: generatorActive.map { pG.variables[$0] }))
        }()
        ProgressiveTrainer.update(&generatorParameters, indices: generatorActive, gradients: generatorGradients,
                                  optimizer: &generatorOptimizer)
        ProgressiveTrainer.updateAverage(&averagedGenerator, toward: generatorParameters, decay: c.averageDecay,
                                         indices: generatorActive)

        imagesShown += n
        steps += 1
        return GANStepRecord(step: steps, level: level, resolution: resolution, imagesShown: imagesShown,
                             criticLoss: critic.loss.value.scalar, generatorLoss: generatorLoss,
                             gradientPenalty: critic.penalty.value.scalar, realScore: critic.realScore,
                             fakeScore: critic.fakeScore)
    }

    /// Steps until the schedule's images have been shown, calling `onStep`
    /// after each.
    public mutating func train(onStep: (GANStepRecord) -> Void = { _ in }) {
        while !isFinished { onStep(step()) }
    }

    /// One Adam update of the parameters `indices` of `store`.
    static func update(_ store: inout ParameterStore, indices: [Int], gradients: [Tensor], optimizer: inout Adam) {
        // Move the tensors out of the store so that Adam updates them in place.
        var subset = [Tensor]()
        subset.reserveCapacity(indices.count)
        for i in indices {
            subset.append(store.tensors[i])
            store.tensors[i] = Tensor(shape: [0], scalars: [])
        }
        optimizer.update(&subset, gradients: gradients, multiplier: 1)
        for (k, i) in indices.enumerated() { store.tensors[i] = subset[k] }
    }

    /// θ̄ ← θ + β (θ̄ - θ) for the parameters `indices`: the moving average
    /// of Karras et al. (the authors' `lerp(θ, θ̄, β)`); a parameter that
    /// has not moved (θ̄ = θ) stays exactly where it is.
    public static func updateAverage(_ average: inout ParameterStore, toward current: ParameterStore, decay beta: Float,
                                     indices: [Int]) {
        precondition(average.names == current.names, "updateAverage: the stores differ")
        for i in indices {
            let theta = current.tensors[i]
            var bar = average.tensors[i]
            average.tensors[i] = Tensor(shape: [0], scalars: [])
            theta.scalars.withUnsafeBufferPointer { x in
                bar.scalars.withUnsafeMutableBufferPointer { m in
                    for j in 0..<m.count { m[j] = x[j] + beta * (m[j] - x[j]) }
                }
            }
            average.tensors[i] = bar
        }
    }

    /// Images from `latents` [N, latentDimension] at `level` (default: the
    /// current one) by the averaged generator (or the trained one).
    public func samples(_ latents: Tensor, level: GrowthLevel? = nil, averaged: Bool = true) -> Tensor {
        generator.generate(latents, parameters: averaged ? averagedGenerator : generatorParameters, level: level ?? self.level)
    }

    /// `count` standard-normal latents from their own seed: a fixed batch
    /// for grids that show the same images growing.
    public static func latents(count: Int, dimension: Int, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor(shape: [count, dimension], scalars: (0..<(count * dimension)).map { _ in Float(rng.normal()) })
    }
}
