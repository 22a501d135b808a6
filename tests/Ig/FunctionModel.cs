using NativeIg.Autodiff;
using NativeIg.InceptionV1;
using NativeIg.Tensors;

namespace NativeIg.Tests;

/// <summary>Tiny models whose Integrated Gradients are known in closed form. Images are [1, W, 1].</summary>
internal sealed class FunctionModel(int width, Func<Tape, Variable, Variable> f) : IDifferentiableModel
{
    public int[] ImageShape => [1, width, 1];
    public int Classes => 1;

    /// <summary>Logits [N, 1] = f(pixels [N, W]).</summary>
    public Variable Logits(Tape tape, Variable images) => tape.Reshape(f(tape, tape.Reshape(images, [images.Value.Dim(0), width])), [images.Value.Dim(0), 1]);

    public static Tensor Image(params float[] pixels) => Tensor.FromSpan(pixels, 1, pixels.Length, 1);

    /// <summary>Σ w_i·x_i.</summary>
    public static FunctionModel Linear(float[] w) => new(w.Length, (t, x) =>
    {
        var weights = Variable.Parameter(Tensor.FromSpan(w, w.Length, 1), "w");
        return t.FullyConnected(x, weights, null);
    });

    /// <summary>x₁·x₂.</summary>
    public static FunctionModel Product() => new(2, (t, x) => t.Mul(t.SelectColumn(x, 0), t.SelectColumn(x, 1)));

    /// <summary>ReLU(x − 0.5).</summary>
    public static FunctionModel ShiftedRelu() => new(1, (t, x) =>
        t.Relu(t.Add(t.SelectColumn(x, 0), t.Input(Tensor.Filled(-0.5f, x.Value.Dim(0)), "shift", requiresGrad: false))));

    /// <summary>min(x, 0.8), the tutorial's saturating function.</summary>
    public static FunctionModel Saturating() => new(1, (t, x) => t.Minimum(t.SelectColumn(x, 0), 0.8f));
}
