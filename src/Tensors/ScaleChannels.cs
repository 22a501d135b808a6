using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>
/// y[n, h, w, c] = x[n, h, w, c]·s[n, c]: each image's channels scaled by its own gates (a
/// squeeze-and-excitation block's x ⊙ σ(…), ONNX's Mul of [N, C, H, W] by [N, C, 1, 1]).
/// dx = dy ⊙ s; ds[n, c] = Σ over h, w of dy ⊙ x.
/// </summary>
public static class ScaleChannels
{
    /// <summary>y[n, ..., c] = x[n, ..., c]·s[n, c] (squeeze-and-excitation's scaling).</summary>
    public static void Forward(Tensor x, Tensor s, Tensor y)
    {
        var (n, pixels, c) = Check(x, s, "ScaleChannels.Forward");
        var xs = x.Span; var ss = s.Span; var ys = y.Span;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < pixels; p++)
            {
                int at = (i * pixels + p) * c;
                TensorPrimitives.Multiply(xs.Slice(at, c), ss.Slice(i * c, c), ys.Slice(at, c));
            }
    }

    /// <summary>dx (+)= dy·s per channel.</summary>
    public static void BackwardInput(Tensor dy, Tensor s, Tensor dx, bool accumulate = false)
    {
        var (n, pixels, c) = Check(dy, s, "ScaleChannels.BackwardInput");
        var g = dy.Span; var ss = s.Span; var d = dx.Span;
        for (int i = 0; i < n; i++)
            for (int p = 0; p < pixels; p++)
            {
                int at = (i * pixels + p) * c;
                if (accumulate) TensorPrimitives.MultiplyAdd(g.Slice(at, c), ss.Slice(i * c, c), d.Slice(at, c), d.Slice(at, c));
                else TensorPrimitives.Multiply(g.Slice(at, c), ss.Slice(i * c, c), d.Slice(at, c));
            }
    }

    /// <summary>ds[n, c] (+)= Σ over pixels of dy·x.</summary>
    public static void BackwardScale(Tensor dy, Tensor x, Tensor ds, bool accumulate = false)
    {
        var (n, pixels, c) = Check(x, ds, "ScaleChannels.BackwardScale");
        var g = dy.Span; var xs = x.Span; var d = ds.Span;
        if (!accumulate) d.Clear();
        for (int i = 0; i < n; i++)
        {
            var row = d.Slice(i * c, c);
            for (int p = 0; p < pixels; p++)
            {
                int at = (i * pixels + p) * c;
                TensorPrimitives.MultiplyAdd(g.Slice(at, c), xs.Slice(at, c), row, row);
            }
        }
    }

    private static (int N, int Pixels, int C) Check(Tensor x, Tensor s, string op)
    {
        if (x.Rank < 2 || s.Rank != 2 || s.Dim(0) != x.Dim(0) || s.Dim(1) != x.Dim(x.Rank - 1))
            throw new ArgumentException($"{op}: scales of shape {s.ShapeString} do not match [N, C] of {x.ShapeString}.");
        int n = x.Dim(0), c = s.Dim(1);
        return (n, x.Length / n / c, c);
    }
}

/// <summary>y[n, …, c] = x[n, …, c]·s[n, c], in double precision.</summary>
internal static class ScaleChannelsReference
{
    public static double[] Forward(double[] x, double[] s, int n, int c)
    {
        var y = new double[x.Length];
        int perImage = x.Length / n;
        for (int i = 0; i < x.Length; i++) y[i] = x[i] * s[i / perImage * c + i % c];
        return y;
    }
}
