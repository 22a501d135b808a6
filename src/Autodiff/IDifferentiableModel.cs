
namespace NativeIg.Autodiff;

/// <summary>Any model the engine can differentiate: images [N, H, W, C] in, logits [N, classes] out.</summary>
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
}
