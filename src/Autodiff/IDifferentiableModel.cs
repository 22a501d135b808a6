
namespace NativeIg.Autodiff;

/// <summary>
/// Any model the engine can differentiate: images [N, H, W, C] in, logits [N, classes] out. Beside
/// <see cref="Logits"/>, the members with bodies (inference, the move to the model's device) serve every
/// model; GoogLeNet and ONNX models give their own where they check more.
/// </summary>
public interface IDifferentiableModel
{
    /// <summary>The shape of one input image, [H, W, C].</summary>
    int[] ImageShape { get; }
    /// <summary>The number of outputs (classes).</summary>
    int Classes { get; }

    /// <summary>Where the parameters live (null: host memory); inputs must be moved there.</summary>
    NativeIg.Tensors.ComputeDevice? Device => null;

    /// <summary>The model's logits [N, <see cref="Classes"/>] for <paramref name="images"/> [N, H, W, C], recorded on <paramref name="tape"/> so that a backward pass reaches the images.</summary>
    Variable Logits(Tape tape, Variable images);

    /// <summary>
    /// The one place inputs move to the model's device: a copy of <paramref name="images"/> on <see cref="Device"/>
    /// (the caller disposes it), or null when the model is in host memory and the images serve as they are.
    /// </summary>
    NativeIg.Tensors.Tensor? ToModelDevice(NativeIg.Tensors.Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Device is null ? null : images.To(Device);
    }

    /// <summary>
    /// Inference: the outputs [N, <see cref="Classes"/>] before any softmax (logits, or a featurizer's values)
    /// for <paramref name="images"/>, in host memory, keeping no activations, on at most <paramref name="threads"/> threads.
    /// </summary>
    NativeIg.Tensors.Tensor PredictOutputs(NativeIg.Tensors.Tensor images, int? threads = null)
    {
        using var limit = NativeIg.Tensors.ComputeThreads.Limit(threads);
        using var onDevice = ToModelDevice(images);
        using var tape = Tape.ForInference();
        return Logits(tape, tape.Input(onDevice ?? images, requiresGrad: false)).Value.ToHost();
    }

    /// <summary>Inference: class probabilities [N, <see cref="Classes"/>] = softmax of the outputs, as <see cref="PredictOutputs"/>.</summary>
    NativeIg.Tensors.Tensor PredictProbabilities(NativeIg.Tensors.Tensor images, int? threads = null)
    {
        using var limit = NativeIg.Tensors.ComputeThreads.Limit(threads);
        using var onDevice = ToModelDevice(images);
        using var tape = Tape.ForInference();
        return tape.Softmax(Logits(tape, tape.Input(onDevice ?? images, requiresGrad: false)), "prob").Value.ToHost();
    }
}
