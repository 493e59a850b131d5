// When the networks grow: the phases of progressive training, counted in
// real images shown to the critic (Karras et al. 2018, §2 and App. A.1), and
// the fade-in that blends a new block in.
//
// Training starts at 4x4 and stabilizes there; then, for each later
// resolution, a fade-in phase brings in the new block with a weight α rising
// linearly from 0 to 1 with the images shown, and a stabilization phase
// trains the grown networks with α = 1. The last stage stabilizes until the
// run ends. The paper shows 800k images per phase; the authors' code
// defaults to 600k. Not here: per-resolution minibatch sizes or learning
// rates (the paper's Fashion-MNIST scale needs neither).

import Autodiff
import Tensors

/// Where training is: the stage (0 = 4x4) and the weight α of its newest block.
public struct GrowthLevel: Sendable, Equatable, Hashable, Codable {
    /// The stage whose resolution the networks work at.
    public var stage: Int
    /// The weight of the stage's new block while it fades in; 1 otherwise.
    public var alpha: Float
    /// Whether the stage's block is being faded in: the networks blend it
    /// with the previous stage's output (G) or input (D) by α.
    public var isFadingIn: Bool

    /// A stabilized stage (α = 1, no blending).
    public static func stable(_ stage: Int) -> GrowthLevel { GrowthLevel(stage: stage, alpha: 1, isFadingIn: false) }

    /// Stage `stage` fading in with weight `alpha`.
    /// - Precondition: stage ≥ 1 and 0 ≤ α ≤ 1.
    public static func fadingIn(_ stage: Int, alpha: Float) -> GrowthLevel {
        precondition(stage >= 1, "GrowthLevel: stage 0 (4x4) has nothing to fade in")
        precondition(alpha >= 0 && alpha <= 1, "GrowthLevel: alpha \(alpha) outside [0, 1]")
        return GrowthLevel(stage: stage, alpha: alpha, isFadingIn: true)
    }
}

/// The phases of a progressive run, in images shown to the critic.
///
/// Phase 2s stabilizes stage s and phase 2s - 1 fades it in (s ≥ 1); the run
/// starts by stabilizing `initialStage` (0, 4x4, for progressive growing;
/// the last stage for a network trained at full resolution from the start,
/// the authors' `lod_initial_resolution`), and the last stage's
/// stabilization lasts until `totalImages`. With `fadeInImages` 0 the new
/// blocks switch on at once (α jumps from 0 to 1), the "no fade-in"
/// comparison.
public struct GrowthSchedule: Sendable, Equatable, Codable {
    /// Stages, 4x4 first.
    public var stageCount: Int
    /// The stage the run starts at.
    public var initialStage: Int
    /// Images shown while each stage stabilizes (the last: at least this many).
    public var stabilizationImages: Int
    /// Images shown while each new stage fades in.
    public var fadeInImages: Int
    /// The length of the run in images.
    public var totalImages: Int

    /// - Parameter totalImages: defaults to the end of the last stage's
    ///   first stabilization phase.
    public init(stageCount: Int, initialStage: Int = 0, stabilizationImages: Int, fadeInImages: Int, totalImages: Int? = nil) {
        precondition(stageCount >= 1 && initialStage >= 0 && initialStage < stageCount && stabilizationImages > 0
                     && fadeInImages >= 0,
                     "GrowthSchedule: \(stageCount) stages from \(initialStage), \(stabilizationImages) + \(fadeInImages) images a phase")
        self.stageCount = stageCount
        self.initialStage = initialStage
        self.stabilizationImages = stabilizationImages
        self.fadeInImages = fadeInImages
        let grown = stageCount - 1 - initialStage
        self.totalImages = totalImages ?? ((grown + 1) * stabilizationImages + grown * fadeInImages)
    }

    /// The images shown before stage `stage` starts (its fade-in, or the
    /// initial stage's stabilization).
    public func firstImage(ofStage stage: Int) -> Int {
        let k = stage - initialStage
        return k <= 0 ? 0 : k * stabilizationImages + (k - 1) * fadeInImages
    }

    /// The phase index after `images` images: 2s - 1 while stage s fades in,
    /// 2s while it stabilizes.
    public func phase(afterImages images: Int) -> Int {
        let level = self.level(afterImages: images)
        return level.isFadingIn ? 2 * level.stage - 1 : 2 * level.stage
    }

    /// The stage and α for a step that starts after `images` images:
    /// α = (images - start of the fade-in) / fadeInImages, linear in the
    /// images shown.
    public func level(afterImages images: Int) -> GrowthLevel {
        precondition(images >= 0, "GrowthSchedule: \(images) images")
        let cycle = stabilizationImages + fadeInImages
        let stage = initialStage + images / cycle, within = images % cycle
        if stage >= stageCount - 1 { return .stable(stageCount - 1) }
        if within < stabilizationImages { return .stable(stage) }
        let alpha = Float(Double(within - stabilizationImages) / Double(fadeInImages))
        return .fadingIn(stage + 1, alpha: alpha)
    }
}

// MARK: Fade-in

extension Variable {
    /// (1 - α)·old + α·new, elementwise: the blend of a fading-in block's
    /// output `new` with the previous stage's path `old`.
    ///
    /// Written as a weighted sum rather than old + α(new - old) so that both
    /// ends are exact: α = 0 gives `old` and α = 1 gives `new`, bit for bit
    /// (1·x = x, 0·y = ±0, x ± 0 = x for finite y). Pullback: (1 - α) g to
    /// old, α g to new.
    public static func fadedIn(old: Variable, new: Variable, alpha: Float) -> Variable {
        precondition(old.shape == new.shape, "fadedIn: \(old.shape) vs \(new.shape)")
        let y = Tensor.fadedIn(old: old.value, new: new.value, alpha: alpha)
        let keep = 1 - alpha
        return old.tape.record(y, inputs: [old, new], name: "fadedIn") { g in
            [old.needsGradient ? keep * g : nil, new.needsGradient ? alpha * g : nil]
        } recorded: { g in
            [old.needsGradient ? keep * g : nil, new.needsGradient ? alpha * g : nil]
        }
    }
}

extension Tensor {
    /// (1 - α)·old + α·new, elementwise (see `Variable.fadedIn`).
    public static func fadedIn(old: Tensor, new: Tensor, alpha: Float) -> Tensor {
        let keep = 1 - alpha
        return old.zipBuffer(new, "fadedIn") { a, b, y, n in for i in 0..<n { y[i] = keep * a[i] + alpha * b[i] } }
    }

    /// Real images [N, C, R, R] at the final resolution R shown to the critic
    /// at `level`: averaged down 2x2 at a time to the stage's resolution and,
    /// while a stage fades in, blended with their own 2x-coarser version
    /// upsampled, lerp(x, up(avgpool(x)), 1 - α), so that the critic sees
    /// reals that grow like the generator's images do.
    public func realImages(at level: GrowthLevel, resolution: Int) -> Tensor {
        precondition(rank == 4 && shape[2] >= resolution && shape[2] % resolution == 0 && shape[2] == shape[3],
                     "realImages: images \(shape) for resolution \(resolution)")
        var x = self
        while x.shape[2] > resolution { x = x.averagePooled2x2() }
        guard level.isFadingIn else { return x }
        return Tensor.fadedIn(old: x.averagePooled2x2().upsampledNearest2x(), new: x, alpha: level.alpha)
    }
}
