using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>
/// y = x + bias, the bias (length B) repeated over x's leading dimensions: with B = C a per-channel bias
/// of an NHWC map; with B = H·W·C a mean image subtracted from every image of a batch. The gradient of
/// the bias is the column sums of dy (<see cref="Tensor.ColumnSumsInto"/>), of x dy itself.
/// </summary>
public static class AddBias
{
    /// <summary>y[r, j] = x[r, j] + bias[j] for x of [rows, bias.Length] (any rank; the bias runs along the last axis).</summary>
    public static void Forward(Tensor x, Tensor bias, Tensor y)
    {
        RequireShapes(x, bias, y);
        int b = bias.Length;
        var xs = x.Span; var ys = y.Span; var bs = bias.Span;
        for (int r = 0; r < x.Length / b; r++) TensorPrimitives.Add(xs.Slice(r * b, b), bs, ys.Slice(r * b, b));
    }

    /// <summary>Throws unless the bias matches x's trailing dimensions and y has x's shape.</summary>
    public static void RequireShapes(Tensor x, Tensor bias, Tensor y)
    {
        if (bias.Length == 0 || x.Length % bias.Length != 0 || !x.Shape[^Math.Min(bias.Rank, x.Rank)..].SequenceEqual(bias.Shape[^Math.Min(bias.Rank, x.Rank)..]))
            throw new ArgumentException($"AddBias: a bias of shape {bias.ShapeString} does not match the trailing dimensions of {x.ShapeString}.");
        if (!y.SameShape(x)) throw new ArgumentException($"AddBias: output shape {y.ShapeString} differs from the input's {x.ShapeString}.");
    }
}

/// <summary>y = x + bias repeated over the leading dimensions, in double precision.</summary>
internal static class AddBiasReference
{
    public static double[] Forward(double[] x, double[] bias)
    {
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = x[i] + bias[i % bias.Length];
        return y;
    }
}
