using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeIg.Tensors;

/// <summary>Element-wise ops, activations and reductions; the arithmetic runs through TensorPrimitives.</summary>
public static class Elementwise
{
    public static void ReluInPlace(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    private const int ParallelBlock = 1 << 16;

    /// <summary>mask[i] = 1 where y[i] &gt; 0, else 0: all ReLU's backward needs, in a quarter of the memory of y.</summary>
    public static unsafe void ReluMask(ReadOnlySpan<float> y, Span<byte> mask)
    {
        if (mask.Length < y.Length) throw new ArgumentException($"ReLU mask: {mask.Length} bytes for {y.Length} values.");
        fixed (float* py = y)
        fixed (byte* pm = mask)
        {
            float* yp = py; byte* mp = pm; int n = y.Length;
            ForBlocks(n, (start, end) => ReluMaskBlock(yp + start, mp + start, end - start));
        }
    }

    private static unsafe void ReluMaskBlock(float* y, byte* mask, int n)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // Four float vectors narrow to one byte vector (Vector<T>: 256-bit on x86 AVX2/AVX-512, 128-bit on ARM64/SSE).
            int w = Vector<float>.Count;
            var one = Vector<uint>.One;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                var m0 = Vector.GreaterThan(Vector.Load(y + i), Vector<float>.Zero).As<int, uint>() & one;
                var m1 = Vector.GreaterThan(Vector.Load(y + i + w), Vector<float>.Zero).As<int, uint>() & one;
                var m2 = Vector.GreaterThan(Vector.Load(y + i + 2 * w), Vector<float>.Zero).As<int, uint>() & one;
                var m3 = Vector.GreaterThan(Vector.Load(y + i + 3 * w), Vector<float>.Zero).As<int, uint>() & one;
                Vector.Narrow(Vector.Narrow(m0, m1), Vector.Narrow(m2, m3)).Store(mask + i);
            }
        }
        for (; i < n; i++) mask[i] = y[i] > 0f ? (byte)1 : (byte)0;
    }

    /// <summary>g[i] = 0 where mask[i] is 0 (in place).</summary>
    public static unsafe void ApplyMask(Span<float> g, ReadOnlySpan<byte> mask)
    {
        if (mask.Length < g.Length) throw new ArgumentException($"Apply mask: {mask.Length} bytes for {g.Length} values.");
        fixed (float* pg = g)
        fixed (byte* pm = mask)
        {
            float* gp = pg; byte* mp = pm; int n = g.Length;
            ForBlocks(n, (start, end) => ApplyMaskBlock(gp + start, mp + start, end - start));
        }
    }

    private static unsafe void ApplyMaskBlock(float* g, byte* mask, int n)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            // One byte vector widens to four float-wide masks.
            int w = Vector<float>.Count;
            for (; i + 4 * w <= n; i += 4 * w)
            {
                Vector.Widen(Vector.Load(mask + i), out var low, out var high);
                Vector.Widen(low, out var k0, out var k1);
                Vector.Widen(high, out var k2, out var k3);
                (Vector.Load(g + i) & Vector.GreaterThan(k0, Vector<uint>.Zero).As<uint, float>()).Store(g + i);
                (Vector.Load(g + i + w) & Vector.GreaterThan(k1, Vector<uint>.Zero).As<uint, float>()).Store(g + i + w);
                (Vector.Load(g + i + 2 * w) & Vector.GreaterThan(k2, Vector<uint>.Zero).As<uint, float>()).Store(g + i + 2 * w);
                (Vector.Load(g + i + 3 * w) & Vector.GreaterThan(k3, Vector<uint>.Zero).As<uint, float>()).Store(g + i + 3 * w);
            }
        }
        for (; i < n; i++)
            if (mask[i] == 0) g[i] = 0f;
    }

    /// <summary>Runs body over [0, n) in blocks on the worker threads (one block when small).</summary>
    private static void ForBlocks(int n, Action<int, int> body)
    {
        int blocks = (n + ParallelBlock - 1) / ParallelBlock;
        if (blocks <= 1 || Gemm.Threads == 1) { body(0, n); return; }
        Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = Gemm.Threads }, b =>
            body(b * ParallelBlock, Math.Min(n, (b + 1) * ParallelBlock)));
    }

    /// <summary>dx = dy where y &gt; 0, else 0 (ReLU's gradient read off its output).</summary>
    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, bool accumulate = false)
    {
        if (y.Length != dy.Length || y.Length != dx.Length)
            throw new ArgumentException($"ReLU backward: lengths differ (y {y.Length}, dy {dy.Length}, dx {dx.Length}).");
        for (int i = 0; i < y.Length; i++)
        {
            float g = y[i] > 0f ? dy[i] : 0f;
            dx[i] = accumulate ? dx[i] + g : g;
        }
    }

    /// <summary>Row-wise numerically stable softmax over the last axis of a [rows, classes] matrix.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, int classes)
    {
        CheckRows(logits.Length, probabilities.Length, classes, "Softmax");
        for (int r = 0; r < logits.Length / classes; r++)
        {
            var x = logits.Slice(r * classes, classes);
            var y = probabilities.Slice(r * classes, classes);
            TensorPrimitives.Subtract(x, TensorPrimitives.Max(x), y);
            TensorPrimitives.Exp(y, y);
            TensorPrimitives.Divide(y, TensorPrimitives.Sum(y), y);
        }
    }

    /// <summary>dx = y ⊙ (dy − Σ dy·y) per row.</summary>
    public static void SoftmaxBackward(ReadOnlySpan<float> probabilities, ReadOnlySpan<float> dy, Span<float> dx, int classes, bool accumulate = false)
    {
        CheckRows(probabilities.Length, dy.Length, classes, "Softmax backward");
        CheckRows(probabilities.Length, dx.Length, classes, "Softmax backward");
        for (int r = 0; r < probabilities.Length / classes; r++)
        {
            var y = probabilities.Slice(r * classes, classes);
            var g = dy.Slice(r * classes, classes);
            var d = dx.Slice(r * classes, classes);
            float dot = TensorPrimitives.Dot(g, y);
            for (int i = 0; i < classes; i++)
            {
                float v = y[i] * (g[i] - dot);
                d[i] = accumulate ? d[i] + v : v;
            }
        }
    }

    /// <summary>y = x − max − log Σ exp(x − max) per row.</summary>
    public static void LogSoftmax(ReadOnlySpan<float> logits, Span<float> result, int classes)
    {
        CheckRows(logits.Length, result.Length, classes, "LogSoftmax");
        for (int r = 0; r < logits.Length / classes; r++)
        {
            var x = logits.Slice(r * classes, classes);
            var y = result.Slice(r * classes, classes);
            float max = TensorPrimitives.Max(x);
            TensorPrimitives.Subtract(x, max, y);
            float logSum = 0;
            for (int i = 0; i < classes; i++) logSum += MathF.Exp(y[i]);
            TensorPrimitives.Subtract(y, MathF.Log(logSum), y);
        }
    }

    /// <summary>dx = dy − softmax·Σdy per row, with softmax = exp(y).</summary>
    public static void LogSoftmaxBackward(ReadOnlySpan<float> logProbabilities, ReadOnlySpan<float> dy, Span<float> dx, int classes, bool accumulate = false)
    {
        CheckRows(logProbabilities.Length, dy.Length, classes, "LogSoftmax backward");
        CheckRows(logProbabilities.Length, dx.Length, classes, "LogSoftmax backward");
        for (int r = 0; r < logProbabilities.Length / classes; r++)
        {
            var y = logProbabilities.Slice(r * classes, classes);
            var g = dy.Slice(r * classes, classes);
            var d = dx.Slice(r * classes, classes);
            float sum = TensorPrimitives.Sum(g);
            for (int i = 0; i < classes; i++)
            {
                float v = g[i] - MathF.Exp(y[i]) * sum;
                d[i] = accumulate ? d[i] + v : v;
            }
        }
    }

    private static void CheckRows(int a, int b, int classes, string op)
    {
        if (classes < 1 || a != b || a % classes != 0)
            throw new ArgumentException($"{op}: lengths {a} and {b} are not the same whole number of rows of {classes}.");
    }
}

/// <summary>Fully connected layer: y[N, O] = x[N, I]·W[I, O] + b[O].</summary>
public static class FullyConnected
{
    public static void Forward(Tensor x, Tensor w, Tensor? bias, Tensor y)
    {
        var (n, inputs, outputs) = Check(x, w, bias, y, "FullyConnected.Forward");
        var ys = y.Span;
        if (bias is not null)
            for (int r = 0; r < n; r++) bias.Span.CopyTo(ys.Slice(r * outputs, outputs));
        Gemm.Multiply(n, outputs, inputs, x.Span, inputs, false, w.Span, outputs, false, ys, outputs, accumulate: bias is not null);
    }

    /// <summary>dx = dy·Wᵀ.</summary>
    public static void BackwardData(Tensor dy, Tensor w, Tensor dx, bool accumulate = false)
    {
        var (n, inputs, outputs) = Check(dx, w, null, dy, "FullyConnected.BackwardData");
        Gemm.Multiply(n, inputs, outputs, dy.Span, outputs, false, w.Span, outputs, true, dx.Span, inputs, accumulate);
    }

    /// <summary>dW = xᵀ·dy, db = Σ_rows dy.</summary>
    public static void BackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor? db, bool accumulate = false)
    {
        var (n, inputs, outputs) = Check(x, dw, db, dy, "FullyConnected.BackwardWeights");
        Gemm.Multiply(inputs, outputs, n, x.Span, inputs, true, dy.Span, outputs, false, dw.Span, outputs, accumulate);
        if (db is null) return;
        var dbs = db.Span;
        if (!accumulate) dbs.Clear();
        for (int r = 0; r < n; r++) TensorPrimitives.Add(dbs, dy.Span.Slice(r * outputs, outputs), dbs);
    }

    /// <summary>x may have any rank; its first axis is the batch and the rest flatten to the inputs.</summary>
    private static (int N, int Inputs, int Outputs) Check(Tensor x, Tensor w, Tensor? bias, Tensor y, string op)
    {
        if (w.Rank != 2) throw new ArgumentException($"{op}: weight shape {w.ShapeString} must be [inputs, outputs].");
        int n = x.Dim(0), inputs = w.Dim(0), outputs = w.Dim(1);
        if (x.Length != n * inputs)
            throw new ArgumentException($"{op}: input shape {x.ShapeString} does not flatten to [{n}, {inputs}] for weights {w.ShapeString}.");
        if (y.Length != n * outputs || y.Dim(0) != n)
            throw new ArgumentException($"{op}: output shape {y.ShapeString} does not match [{n}, {outputs}] for weights {w.ShapeString}.");
        if (bias is not null && (bias.Rank != 1 || bias.Dim(0) != outputs))
            throw new ArgumentException($"{op}: bias shape {bias.ShapeString} does not match [{outputs}].");
        return (n, inputs, outputs);
    }
}

/// <summary>Concatenation along the channel (last) axis of NHWC tensors, and its inverse for gradients.</summary>
public static class ChannelConcat
{
    /// <summary>y[..., offset_i : offset_i + C_i] = parts[i].</summary>
    public static void Forward(IReadOnlyList<Tensor> parts, Tensor y)
    {
        int total = CheckParts(parts, y, "Concat.Forward");
        int pixels = y.Length / total;
        var ys = y.Span;
        int offset = 0;
        foreach (var part in parts)
        {
            int c = part.Dim(part.Rank - 1);
            var src = part.Span;
            for (int px = 0; px < pixels; px++) src.Slice(px * c, c).CopyTo(ys.Slice(px * total + offset, c));
            offset += c;
        }
    }

    /// <summary>Gradient of concat: dParts[i] (+)= dy[..., offset_i : offset_i + C_i].</summary>
    public static void Backward(Tensor dy, IReadOnlyList<Tensor> dParts, bool accumulate = false)
    {
        int total = CheckParts(dParts, dy, "Concat.Backward");
        int pixels = dy.Length / total;
        var dys = dy.Span;
        int offset = 0;
        foreach (var part in dParts)
        {
            int c = part.Dim(part.Rank - 1);
            var dst = part.Span;
            for (int px = 0; px < pixels; px++)
            {
                var from = dys.Slice(px * total + offset, c);
                var to = dst.Slice(px * c, c);
                if (accumulate) TensorPrimitives.Add(to, from, to);
                else from.CopyTo(to);
            }
            offset += c;
        }
    }

    private static int CheckParts(IReadOnlyList<Tensor> parts, Tensor y, string op)
    {
        if (parts.Count == 0) throw new ArgumentException($"{op}: nothing to concatenate.");
        int total = 0;
        foreach (var part in parts)
        {
            if (part.Rank != y.Rank)
                throw new ArgumentException($"{op}: part shape {part.ShapeString} and output shape {y.ShapeString} differ in rank.");
            for (int axis = 0; axis < y.Rank - 1; axis++)
                if (part.Dim(axis) != y.Dim(axis))
                    throw new ArgumentException($"{op}: part shape {part.ShapeString} and output shape {y.ShapeString} differ outside the channel axis.");
            total += part.Dim(part.Rank - 1);
        }
        if (total != y.Dim(y.Rank - 1))
            throw new ArgumentException($"{op}: parts hold {total} channels in all, the output shape {y.ShapeString} has {y.Dim(y.Rank - 1)}.");
        return total;
    }
}

/// <summary>
/// y[..., c] = scale[c]·x[..., source[c]] + shift[c] over the last axis: a channel permutation with a
/// per-channel affine map. Inception's preprocessing (RGB [0,1] → BGR·255 − mean) is one of these.
/// </summary>
public static class ChannelAffine
{
    public static void Forward(Tensor x, Tensor y, ReadOnlySpan<int> source, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift)
    {
        int c = Check(x, y, source, scale, shift, "ChannelAffine.Forward");
        var xs = x.Span; var ys = y.Span;
        for (int px = 0; px < x.Length / c; px++)
            for (int ch = 0; ch < c; ch++)
                ys[px * c + ch] = scale[ch] * xs[px * c + source[ch]] + shift[ch];
    }

    /// <summary>dx[..., source[c]] (+)= scale[c]·dy[..., c].</summary>
    public static void Backward(Tensor dy, Tensor dx, ReadOnlySpan<int> source, ReadOnlySpan<float> scale, bool accumulate = false)
    {
        int c = Check(dx, dy, source, scale, scale, "ChannelAffine.Backward");
        var dys = dy.Span; var dxs = dx.Span;
        if (!accumulate) dxs.Clear();
        for (int px = 0; px < dx.Length / c; px++)
            for (int ch = 0; ch < c; ch++)
                dxs[px * c + source[ch]] += scale[ch] * dys[px * c + ch];
    }

    private static int Check(Tensor x, Tensor y, ReadOnlySpan<int> source, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, string op)
    {
        Tensor.RequireSameShape(x, y, op);
        int c = x.Dim(x.Rank - 1);
        if (source.Length != c || scale.Length != c || shift.Length != c)
            throw new ArgumentException($"{op}: {c} channels but source/scale/shift have {source.Length}/{scale.Length}/{shift.Length} entries.");
        foreach (int s in source)
            if ((uint)s >= (uint)c) throw new ArgumentException($"{op}: source channel {s} is outside [0, {c}).");
        return c;
    }
}
