using NativeIg.Tensors.Gpu;

namespace NativeIg.Autodiff;

/// <summary>Any model the engine can differentiate: images [N, H, W, C] in, logits [N, classes] out.</summary>
public interface IDifferentiableModel
{
    /// <summary>The shape of one input image, [H, W, C].</summary>
    int[] ImageShape { get; }
    int Classes { get; }

    /// <summary>Where the parameters live (null: host memory); inputs must be moved there.</summary>
    GpuDevice? Device => null;

    Variable Logits(Tape tape, Variable images);
}
