using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using NativeIg.Tensors;

namespace NativeIg.Autodiff;

/// <summary>The differentiable ops. Each keeps its forward and its chain rule side by side.</summary>
public sealed partial class Tape
{
    /// <summary>
    /// Convolution, NHWC x [N, H, W, CI] with HWIO w [KH, KW, CI, CO] and bias [CO] → [N, OH, OW, CO],
    /// optionally followed by ReLU. Backward: dy is masked where the ReLU was off (a byte mask kept
    /// from the forward pass, so the output itself need not be), then dX by the backward-data GEMM
    /// (reads only w) and dW/db by the backward-filter GEMM (reads x) — each only when needed.
    /// </summary>
    public Variable Conv2d(Variable x, Variable w, Variable? bias, WindowGeometry g, bool relu = false, string name = "conv")
    {
        if (x.Value.Device is not null) return GpuConv2d(x, w, bias, g, relu, name);
        int co = w.Value.Dim(w.Value.Rank - 1);
        var y = Tensor.Uninitialized(g.N, g.OutH, g.OutW, co);
        try
        {
            // Frozen filters are packed for the GEMM once and kept on the parameter.
            var packed = w.Derived("conv-forward", () => Tensors.Conv2d.PackForward(w.Value));
            Tensors.Conv2d.Forward(g, x.Value, w.Value, bias?.Value, y, relu, packedFilter: packed);
        }
        catch { y.Dispose(); throw; }
        Variable[] inputs = bias is null ? [x, w] : [x, w, bias];
        bool filterGrad = w.RequiresGrad || bias is { RequiresGrad: true };
        return Record(y, name, inputs, () =>
        {
            var mask = relu ? PooledBytes.ReluMask(y.Span) : null;
            if (mask is not null) KeepForBackward(mask);
            return dy =>
            {
                // dy is this op's own output gradient, used up after this call: mask it in place.
                if (mask is not null) Elementwise.ApplyMask(dy.Span, mask.Array);
                if (x.RequiresGrad)
                {
                    var (dx, acc) = GradTarget(x);
                    var packed = w.Derived("conv-backward-data:" + Tensors.Conv2d.BackwardDataRoute(g), () => Tensors.Conv2d.PackBackwardData(g, w.Value));
                    Tensors.Conv2d.BackwardData(g, dy, w.Value, dx, acc, packedFilter: packed);
                }
                if (!filterGrad) return;
                var (dw, accW) = w.RequiresGrad ? GradTarget(w) : (Tensor.Uninitialized(w.Value.Shape.ToArray()), false);
                Tensor? db = null; bool accB = false;
                if (bias is { RequiresGrad: true }) (db, accB) = GradTarget(bias);
                // One accumulate flag serves both; when they differ, compute the bias part separately.
                if (db is not null && accB != accW)
                {
                    Tensors.Conv2d.BackwardFilter(g, x.Value, dy, dw, null, accW);
                    AddColumnSums(dy, db, accB);
                }
                else Tensors.Conv2d.BackwardFilter(g, x.Value, dy, dw, db, accW);
                if (!w.RequiresGrad) dw.Dispose();
            };
        }, saves: filterGrad ? [x] : null, kind: $"conv{g.KernelH}x{g.KernelW}/{g.StrideH}");
    }

    /// <summary>Caffe-style convolution: square kernel from w's shape, symmetric pad, floor rounding.</summary>
    public Variable Conv2d(Variable x, Variable w, Variable? bias, int stride, int pad, bool relu = false, string name = "conv")
    {
        var xs = x.Value;
        if (xs.Rank != 4) throw new ArgumentException($"{name}: input shape {xs.ShapeString} is not NHWC.");
        if (w.Value.Rank != 4 || w.Value.Dim(0) != w.Value.Dim(1))
            throw new ArgumentException($"{name}: filter shape {w.Value.ShapeString} is not a square HWIO filter.");
        var g = WindowGeometry.ConvCaffe(xs.Dim(0), xs.Dim(1), xs.Dim(2), xs.Dim(3), w.Value.Dim(0), stride, pad);
        return Conv2d(x, w, bias, g, relu, name);
    }

    private static void AddColumnSums(Tensor dy, Tensor db, bool accumulate)
    {
        int c = db.Length;
        var s = db.Span;
        if (!accumulate) s.Clear();
        var d = dy.Span;
        for (int r = 0; r < dy.Length / c; r++) TensorPrimitives.Add(s, d.Slice(r * c, c), s);
    }

    /// <summary>Max pool [N, H, W, C] → [N, OH, OW, C]. Backward routes each gradient to the window position that held the maximum.</summary>
    public Variable MaxPool(Variable x, WindowGeometry g, string name = "maxpool")
    {
        if (x.Value.Device is not null) return GpuMaxPool(x, g, name);
        var y = Tensor.Uninitialized(g.N, g.OutH, g.OutW, g.C);
        var taps = new PooledBytes(y.Length);
        try { Pool2d.MaxForward(g, x.Value, y, taps.Array); }
        catch { y.Dispose(); taps.Dispose(); throw; }
        bool kept = false;
        var result = Record(y, name, [x], () =>
        {
            KeepForBackward(taps);
            kept = true;
            return dy =>
            {
                var (dx, acc) = GradTarget(x);
                Pool2d.MaxBackward(g, dy, taps.Array, dx, acc);
            };
        }, kind: "maxpool");
        if (!kept) taps.Dispose();
        return result;
    }

    /// <summary>Average pool [N, H, W, C] → [N, OH, OW, C]. Backward spreads dy/divisor over each window.</summary>
    public Variable AvgPool(Variable x, WindowGeometry g, AvgPoolDivisor divisor, string name = "avgpool")
    {
        if (x.Value.Device is not null) return GpuAvgPool(x, g, divisor, name);
        var y = Tensor.Uninitialized(g.N, g.OutH, g.OutW, g.C);
        Pool2d.AvgForward(g, x.Value, y, divisor);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Pool2d.AvgBackward(g, dy, dx, divisor, acc);
        }, kind: "avgpool");
    }

    /// <summary>Cross-channel LRN, any shape with channels last. Backward reads only x (scale and y are recomputed).</summary>
    public Variable Lrn(Variable x, LrnParameters p, string name = "lrn")
    {
        if (x.Value.Device is not null) return GpuLrn(x, p, name);
        var y = Tensor.Uninitialized(x.Value.Shape.ToArray());
        Tensors.Lrn.Forward(p, x.Value, y);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Tensors.Lrn.Backward(p, x.Value, dy, dx, acc);
        }, saves: [x], kind: "lrn");
    }

    /// <summary>Concatenation along channels: parts [N, H, W, C_i] → [N, H, W, ΣC_i]. Backward slices dy back out.</summary>
    public Variable Concat(string name, params Variable[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("Concat needs at least one part.");
        var shape = parts[0].Value.Shape.ToArray();
        shape[^1] = parts.Sum(p => p.Value.Dim(p.Value.Rank - 1));
        if (parts[0].Value.Device is not null) return GpuConcat(name, parts, shape);
        var y = Tensor.Uninitialized(shape);
        try { ChannelConcat.Forward(parts.Select(p => p.Value).ToArray(), y); }
        catch { y.Dispose(); throw; }
        return Record(y, name, parts, () => dy =>
        {
            int c = dy.Dim(dy.Rank - 1), pixels = dy.Length / c, offset = 0;
            var dys = dy.Span;
            foreach (var part in parts)
            {
                int pc = part.Value.Dim(part.Value.Rank - 1);
                if (part.RequiresGrad)
                {
                    var (dp, acc) = GradTarget(part);
                    var d = dp.Span;
                    for (int px = 0; px < pixels; px++)
                    {
                        var from = dys.Slice(px * c + offset, pc);
                        var to = d.Slice(px * pc, pc);
                        if (acc) TensorPrimitives.Add(to, from, to); else from.CopyTo(to);
                    }
                }
                offset += pc;
            }
        }, kind: "concat");
    }

    /// <summary>y = max(x, 0); dx = dy where y &gt; 0.</summary>
    public Variable Relu(Variable x, string name = "relu")
    {
        if (x.Value.Device is not null) return GpuRelu(x, name);
        var y = x.Value.Clone();
        Elementwise.ReluInPlace(y.Span);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Elementwise.ReluBackward(y.Span, dy.Span, dx.Span, acc);
        }, savesOutput: true);
    }

    /// <summary>y = min(x, c) (the tutorial's saturating function); dx = dy where x ≤ c (TensorFlow's tie rule).</summary>
    public Variable Minimum(Variable x, float c, string name = "minimum")
    {
        if (x.Value.Device is not null) return GpuMinimum(x, c, name);
        var y = x.Value.Clone();
        TensorPrimitives.Min(y.Span, c, y.Span);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            var xs = x.Value.Span; var g = dy.Span; var d = dx.Span;
            for (int i = 0; i < xs.Length; i++)
            {
                float v = xs[i] <= c ? g[i] : 0f;
                d[i] = acc ? d[i] + v : v;
            }
        }, saves: [x]);
    }

    /// <summary>Softmax over the last axis of [N, classes]; dx = y ⊙ (dy − Σ dy·y).</summary>
    public Variable Softmax(Variable x, string name = "softmax")
    {
        int classes = x.Value.Dim(x.Value.Rank - 1);
        if (x.Value.Device is not null) return GpuSoftmax(x, classes, name);
        var y = Tensor.Uninitialized(x.Value.Shape.ToArray());
        Elementwise.Softmax(x.Value.Span, y.Span, classes);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Elementwise.SoftmaxBackward(y.Span, dy.Span, dx.Span, classes, acc);
        }, savesOutput: true, kind: "softmax");
    }

    /// <summary>Log-softmax over the last axis; dx = dy − softmax·Σdy.</summary>
    public Variable LogSoftmax(Variable x, string name = "log_softmax")
    {
        int classes = x.Value.Dim(x.Value.Rank - 1);
        if (x.Value.Device is not null) return GpuLogSoftmax(x, classes, name);
        var y = Tensor.Uninitialized(x.Value.Shape.ToArray());
        Elementwise.LogSoftmax(x.Value.Span, y.Span, classes);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Elementwise.LogSoftmaxBackward(y.Span, dy.Span, dx.Span, classes, acc);
        }, savesOutput: true);
    }

    /// <summary>Fully connected: x [N, ...] flattened to [N, I], w [I, O], bias [O] → [N, O].</summary>
    public Variable FullyConnected(Variable x, Variable w, Variable? bias, string name = "fc")
    {
        if (x.Value.Device is not null) return GpuFullyConnected(x, w, bias, name);
        var y = Tensor.Uninitialized(x.Value.Dim(0), w.Value.Dim(w.Value.Rank - 1));
        try { Tensors.FullyConnected.Forward(x.Value, w.Value, bias?.Value, y); }
        catch { y.Dispose(); throw; }
        Variable[] inputs = bias is null ? [x, w] : [x, w, bias];
        return Record(y, name, inputs, () => dy =>
        {
            if (x.RequiresGrad)
            {
                var (dx, acc) = GradTarget(x);
                Tensors.FullyConnected.BackwardData(dy, w.Value, dx, acc);
            }
            if (w.RequiresGrad)
            {
                var (dw, acc) = GradTarget(w);
                Tensors.FullyConnected.BackwardWeights(x.Value, dy, dw, null, acc);
            }
            if (bias is { RequiresGrad: true })
            {
                var (db, acc) = GradTarget(bias);
                AddColumnSums(dy, db, acc);
            }
        }, saves: w.RequiresGrad ? [x] : null, kind: "fc");
    }

    /// <summary>y = a + b (same shapes).</summary>
    public Variable Add(Variable a, Variable b, string name = "add")
    {
        Tensor.RequireSameShape(a.Value, b.Value, "Add");
        if (a.Value.Device is not null) return GpuAdd(a, b, name);
        var y = Tensor.Uninitialized(a.Value.Shape.ToArray());
        TensorPrimitives.Add(a.Value.Span, b.Value.Span, y.Span);
        return Record(y, name, [a, b], () => dy =>
        {
            foreach (var v in new[] { a, b })
                if (v.RequiresGrad) AddInto(v, dy.Span);
        });
    }

    /// <summary>y = a ⊙ b (same shapes); da = dy ⊙ b, db = dy ⊙ a.</summary>
    public Variable Mul(Variable a, Variable b, string name = "mul")
    {
        Tensor.RequireSameShape(a.Value, b.Value, "Mul");
        if (a.Value.Device is not null) return GpuMul(a, b, name);
        var y = Tensor.Uninitialized(a.Value.Shape.ToArray());
        TensorPrimitives.Multiply(a.Value.Span, b.Value.Span, y.Span);
        return Record(y, name, [a, b], () => dy =>
        {
            if (a.RequiresGrad) MultiplyInto(a, dy.Span, b.Value.Span);
            if (b.RequiresGrad) MultiplyInto(b, dy.Span, a.Value.Span);
        }, saves: [a, b]);
    }

    /// <summary>y = s·x; dx = s·dy.</summary>
    public Variable Scale(Variable x, float s, string name = "scale")
    {
        if (x.Value.Device is not null) return GpuScale(x, s, name);
        var y = Tensor.Uninitialized(x.Value.Shape.ToArray());
        TensorPrimitives.Multiply(x.Value.Span, s, y.Span);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (acc) TensorPrimitives.MultiplyAdd(dy.Span, s, dx.Span, dx.Span);
            else TensorPrimitives.Multiply(dy.Span, s, dx.Span);
        });
    }

    /// <summary>Scalar [1] = Σ x; dx = dy everywhere.</summary>
    public Variable Sum(Variable x, string name = "sum")
    {
        if (x.Value.Device is not null) return GpuSum(x, 1f, name);
        var y = Tensor.Filled(TensorPrimitives.Sum(x.Value.Span), 1);
        return Record(y, name, [x], () => dy => BroadcastInto(x, dy[0]));
    }

    /// <summary>Scalar [1] = mean of x; dx = dy / count.</summary>
    public Variable Mean(Variable x, string name = "mean")
    {
        int count = x.Value.Length;
        if (x.Value.Device is not null) return GpuSum(x, 1f / count, name);
        var y = Tensor.Filled(TensorPrimitives.Sum(x.Value.Span) / count, 1);
        return Record(y, name, [x], () => dy => BroadcastInto(x, dy[0] / count));
    }

    /// <summary>y[n] = x[n, column] from [N, C]; dx is dy in that column, zero elsewhere. IG's target class.</summary>
    public Variable SelectColumn(Variable x, int column, string name = "select")
    {
        var xs = x.Value;
        if (xs.Rank != 2) throw new ArgumentException($"SelectColumn: input shape {xs.ShapeString} is not [N, C].");
        int n = xs.Dim(0), c = xs.Dim(1);
        if ((uint)column >= (uint)c) throw new ArgumentOutOfRangeException(nameof(column), $"Column {column} is outside [0, {c}) for shape {xs.ShapeString}.");
        if (xs.Device is not null) return GpuSelectColumn(x, column, name);
        var y = Tensor.Uninitialized(n);
        for (int i = 0; i < n; i++) y[i] = xs[i * c + column];
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (!acc) dx.Span.Clear();
            for (int i = 0; i < n; i++) dx[i * c + column] += dy[i];
        });
    }

    /// <summary>The same values in another shape (a copy, so the tape can free each independently).</summary>
    public Variable Reshape(Variable x, int[] shape, string name = "reshape")
    {
        if (x.Value.Device is not null) return GpuReshape(x, shape, name);
        using var view = x.Value.Reshape(shape);
        var y = view.Clone();
        return Record(y, name, [x], () => dy => AddInto(x, dy.Span));
    }

    /// <summary>
    /// y[..., c] = scale[c]·x[..., source[c]] + shift[c]: a channel permutation with a per-channel affine
    /// map (Inception's RGB [0,1] → BGR·255 − mean). dx[..., source[c]] += scale[c]·dy[..., c].
    /// </summary>
    public Variable ChannelAffine(Variable x, int[] source, float[] scale, float[] shift, string name = "channel_affine")
    {
        if (x.Value.Device is not null) return GpuChannelAffine(x, source, scale, shift, name);
        var y = Tensor.Uninitialized(x.Value.Shape.ToArray());
        try { Tensors.ChannelAffine.Forward(x.Value, y, source, scale, shift); }
        catch { y.Dispose(); throw; }
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Tensors.ChannelAffine.Backward(dy, dx, source, scale, acc);
        }, kind: "channel_affine");
    }

    private static void AddInto(Variable v, ReadOnlySpan<float> g)
    {
        var (d, acc) = GradTarget(v);
        if (acc) TensorPrimitives.Add(d.Span, g, d.Span); else g.CopyTo(d.Span);
    }

    private static void MultiplyInto(Variable v, ReadOnlySpan<float> g, ReadOnlySpan<float> factor)
    {
        var (d, acc) = GradTarget(v);
        if (acc) TensorPrimitives.MultiplyAdd(g, factor, d.Span, d.Span);
        else TensorPrimitives.Multiply(g, factor, d.Span);
    }

    private static void BroadcastInto(Variable v, float g)
    {
        var (d, acc) = GradTarget(v);
        if (acc) TensorPrimitives.Add(d.Span, g, d.Span); else d.Span.Fill(g);
    }

    /// <summary>A byte array from the scratch pool that goes back on Dispose (ReLU masks, max-pool taps).</summary>
    private sealed class PooledBytes(int length) : IDisposable
    {
        public byte[] Array { get; private set; } = ScratchPool.RentBytes(length);

        /// <summary>mask[i] = 1 where y[i] &gt; 0.</summary>
        public static PooledBytes ReluMask(ReadOnlySpan<float> y)
        {
            var mask = new PooledBytes(y.Length);
            Elementwise.ReluMask(y, mask.Array);
            return mask;
        }

        public void Dispose()
        {
            if (Array.Length == 0) return;
            ScratchPool.ReturnBytes(Array);
            Array = [];
        }
    }
}
