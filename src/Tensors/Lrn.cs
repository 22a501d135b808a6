using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace NativeIg.Tensors;

/// <summary>Caffe's ACROSS_CHANNELS local response normalisation parameters.</summary>
public readonly record struct LrnParameters(int Size = 5, float Alpha = 1e-4f, float Beta = 0.75f, float K = 1f)
{
    /// <summary>Channels before c in its window; Caffe's pre_pad.</summary>
    public int Before => (Size - 1) / 2;
    /// <summary>Channels after c in its window.</summary>
    public int After => Size - Before - 1;

    /// <summary>Throws <see cref="ArgumentException"/> for a size below 1 or a non-finite or negative α, β or k.</summary>
    public void Validate()
    {
        if (Size < 1) throw new ArgumentException($"LRN size must be ≥ 1, got {Size}.");
        if (K <= 0 && Alpha <= 0) throw new ArgumentException("LRN needs k > 0 or α > 0 so the scale stays positive.");
    }
}

/// <summary>
/// Local response normalisation across channels (NHWC, so each pixel's window is contiguous):
/// s_c = k + (α/size)·Σ_{c' ∈ [c−before, c+after]} x_{c'}², y_c = x_c·s_c^−β.
/// dx_c = dy_c·s_c^−β − (2αβ/size)·x_c·Σ_{c' : c ∈ window(c')} dy_{c'}·y_{c'}/s_{c'}.
/// Backward recomputes the scale and y from x rather than storing them: a few vector ops per element
/// instead of two activation-sized buffers per LRN layer held through IG's backward pass.
/// </summary>
public static class Lrn
{
    /// <summary>Local response normalisation across channels: y = x / (k + α/n·Σ x²)^β over the window of <see cref="LrnParameters.Size"/> channels.</summary>
    public static void Forward(LrnParameters p, Tensor x, Tensor y)
    {
        p.Validate();
        Tensor.RequireSameShape(x, y, "Lrn.Forward");
        int c = x.Dim(x.Rank - 1);
        int pixels = x.Length / c;
        var xb = x.Buffer; int xo = x.Offset;
        var yb = y.Buffer; int yo = y.Offset;
        int threads = ComputeThreads.Current, parts = Math.Max(1, threads * 4); // read once for both the split and the limit
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, (part, _) =>
        {
            var (start, end) = Partition(pixels, parts, part);
            var padded = new float[c + p.Size];
            var scale = new float[c];
            var scalePow = new float[c];
            for (int px = start; px < end; px++)
            {
                var xs = xb.AsSpan(xo + px * c, c);
                if (Fused(p))
                {
                    ScaleFused(p, xs, padded, scale, scalePow);
                    TensorPrimitives.Multiply(xs, scalePow, yb.AsSpan(yo + px * c, c));
                    continue;
                }
                Scale(p, xs, padded, scale);
                PowNegBeta(p.Beta, scale, scalePow);
                TensorPrimitives.Multiply(xs, scalePow, yb.AsSpan(yo + px * c, c));
            }
        });
    }

    /// <summary>dx from x and dy; dx is overwritten, or added to when <paramref name="accumulate"/>.</summary>
    public static void Backward(LrnParameters p, Tensor x, Tensor dy, Tensor dx, bool accumulate = false)
    {
        p.Validate();
        Tensor.RequireSameShape(x, dy, "Lrn.Backward (x vs dy)");
        Tensor.RequireSameShape(x, dx, "Lrn.Backward (x vs dx)");
        int c = x.Dim(x.Rank - 1);
        int pixels = x.Length / c;
        float coefficient = -2f * p.Alpha * p.Beta / p.Size;
        var xb = x.Buffer; int xo = x.Offset;
        var dyb = dy.Buffer; int dyo = dy.Offset;
        var dxb = dx.Buffer; int dxo = dx.Offset;
        int threads = ComputeThreads.Current, parts = Math.Max(1, threads * 4); // read once for both the split and the limit
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = threads }, (part, _) =>
        {
            var (start, end) = Partition(pixels, parts, part);
            var padded = new float[c + p.Size];
            var scale = new float[c];
            var scalePow = new float[c];
            var ratio = new float[c + p.Size];
            var window = new float[c];
            var result = new float[c];
            for (int px = start; px < end; px++)
            {
                var xs = xb.AsSpan(xo + px * c, c);
                var dys = dyb.AsSpan(dyo + px * c, c);
                var dxs = dxb.AsSpan(dxo + px * c, c);
                if (Fused(p)) ScaleFused(p, xs, padded, scale, scalePow);
                else
                {
                    Scale(p, xs, padded, scale);
                    PowNegBeta(p.Beta, scale, scalePow);
                }
                // ratio[after + c'] = dy·y/s = dy·x·s^−β/s at c', zero-padded so window sums need no bounds checks.
                var r = ratio.AsSpan();
                r.Clear();
                var inner = r.Slice(p.After, c);
                TensorPrimitives.Multiply(dys, xs, inner);
                TensorPrimitives.Multiply(inner, scalePow, inner);
                TensorPrimitives.Divide(inner, scale, inner);
                WindowSum(ratio, p.Size, window);
                TensorPrimitives.Multiply(xs, window, window);
                TensorPrimitives.Multiply(dys, scalePow, result);
                TensorPrimitives.MultiplyAdd(window, coefficient, result, result);
                if (accumulate) TensorPrimitives.Add(dxs, result, dxs);
                else result.AsSpan().CopyTo(dxs);
            }
        });
    }

    private static (int Start, int End) Partition(int count, int parts, int part) =>
        ((int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));

    /// <summary>Every Inception LRN (β = ¾) takes the fused loop wherever the runtime has vectors (any width).</summary>
    private static bool Fused(LrnParameters p) => p.Beta == 0.75f && Vector.IsHardwareAccelerated;

    /// <summary>
    /// scale and scale^−¾ in one pass of channel vectors (Vector&lt;float&gt;: 8 lanes on x86, 4 on ARM64): the window sum is <c>size</c> unaligned
    /// loads of the padded squares, and s^−¾ = 1/(√s·√√s) — no calls per pixel, no power function.
    /// </summary>
    private static void ScaleFused(LrnParameters p, ReadOnlySpan<float> x, float[] padded, Span<float> scale, Span<float> scalePow)
    {
        int c = x.Length;
        var pad = padded.AsSpan();
        pad[..p.Before].Clear();
        pad[(p.Before + c)..].Clear();
        TensorPrimitives.Multiply(x, x, pad.Slice(p.Before, c));
        var alpha = new Vector<float>(p.Alpha / p.Size);
        var k = new Vector<float>(p.K);
        int ch = 0;
        for (; ch + Vector<float>.Count <= c; ch += Vector<float>.Count)
        {
            var sum = Vector.LoadUnsafe(ref padded[ch]);
            for (int j = 1; j < p.Size; j++) sum += Vector.LoadUnsafe(ref padded[ch + j]);
            var s = sum * alpha + k;
            var root = Vector.SquareRoot(s);
            s.StoreUnsafe(ref scale[ch]);
            (Vector<float>.One / (root * Vector.SquareRoot(root))).StoreUnsafe(ref scalePow[ch]);
        }
        for (; ch < c; ch++)
        {
            float sum = 0;
            for (int j = 0; j < p.Size; j++) sum += padded[ch + j];
            float s = p.K + p.Alpha / p.Size * sum;
            scale[ch] = s;
            scalePow[ch] = 1f / (MathF.Sqrt(s) * MathF.Sqrt(MathF.Sqrt(s)));
        }
    }

    /// <summary>scale_c = k + (α/size)·Σ window of x², via a zero-padded copy of x².</summary>
    private static void Scale(LrnParameters p, ReadOnlySpan<float> x, float[] padded, Span<float> scale)
    {
        var pad = padded.AsSpan();
        pad.Clear();
        TensorPrimitives.Multiply(x, x, pad.Slice(p.Before, x.Length));
        WindowSum(padded, p.Size, scale);
        TensorPrimitives.Multiply(scale, p.Alpha / p.Size, scale);
        TensorPrimitives.Add(scale, p.K, scale);
    }

    /// <summary>sum[c] = Σ_{j &lt; size} padded[c + j].</summary>
    private static void WindowSum(float[] padded, int size, Span<float> sum)
    {
        int c = sum.Length;
        padded.AsSpan(0, c).CopyTo(sum);
        for (int j = 1; j < size; j++) TensorPrimitives.Add(sum, padded.AsSpan(j, c), sum);
    }

    /// <summary>s^−β into <paramref name="result"/>, which must not alias <paramref name="s"/>; β = 0.75 (every Inception LRN) becomes two square roots instead of a power.</summary>
    private static void PowNegBeta(float beta, ReadOnlySpan<float> s, Span<float> result)
    {
        if (beta == 0.75f)
        {
            TensorPrimitives.Sqrt(s, result);
            TensorPrimitives.Sqrt(result, result);   // s^¼
            TensorPrimitives.Divide(result, s, result); // s^¼ / s = s^−¾
            return;
        }
        TensorPrimitives.Log(s, result);
        TensorPrimitives.Multiply(result, -beta, result);
        TensorPrimitives.Exp(result, result);
    }
}
