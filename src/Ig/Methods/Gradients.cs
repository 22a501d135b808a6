using NativeIg.Autodiff;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>
/// The two baselines every attribution comparison includes (Simonyan et al. 2013; Shrikumar et al. 2016):
/// the plain gradient ∂F/∂x at the input, and gradient × input, x ⊙ ∂F/∂x. One forward and one backward
/// pass each, where the model is.
/// </summary>
public static class Gradients
{
    /// <summary>∂F/∂x [H, W, C] of the target's output at <paramref name="image"/> (target null: the predicted class).</summary>
    public static Tensor Plain(IDifferentiableModel model, Tensor image, int? target = null, TargetOutput output = TargetOutput.Probability)
    {
        ArgumentNullException.ThrowIfNull(image);
        var ig = new IntegratedGradients(model);
        int cls = target ?? ig.PredictedClass(image);
        using var batch = image.Reshape([1, .. image.Shape]);
        var (gradients, _) = ig.ComputeGradients(batch, cls, output);
        using (gradients) return gradients.Reshape(image.Shape.ToArray()).Clone();
    }

    /// <summary>x ⊙ ∂F/∂x [H, W, C]: the gradient weighted by the input (what IG becomes with one step from a black baseline).</summary>
    public static Tensor TimesInput(IDifferentiableModel model, Tensor image, int? target = null, TargetOutput output = TargetOutput.Probability)
    {
        var gradient = Plain(model, image, target, output);
        Tensor.MultiplyInto(gradient, gradient, image);
        return gradient;
    }
}
