using ILGPU;
using ILGPU.Runtime;
using NativeIg.Tensors;
using NativeIg.Tensors.Gpu;

namespace NativeIg.Autodiff;

/// <summary>
/// The same ops for tensors on a <see cref="GpuDevice"/>: each public op in Ops.cs hands over here
/// when its input lives on a device. Forward and chain rule again sit side by side; the arithmetic
/// is <see cref="GpuKernels"/>'. Where a kernel cannot add into an existing gradient, the result goes
/// through a temporary (<see cref="AccumulateGpu"/>).
/// </summary>
public sealed partial class Tape
{
    private static GpuDevice DeviceOf(string op, Variable first, params Variable?[] others)
    {
        var device = first.Value.Device ?? throw new InvalidOperationException($"{op}: {first} is in host memory.");
        foreach (var v in others)
            if (v is not null && !ReferenceEquals(v.Value.Device, device))
                throw new ArgumentException($"{op}: {first} is on {device.Kind} but {v} is {(v.Value.Device is null ? "in host memory" : "on another device")}; move the model with ToDevice(...) and the inputs with Tensor.To(...).");
        return device;
    }

    /// <summary>Writes a gradient contribution for <paramref name="v"/>: straight into its gradient when it has none yet, else via a temporary that is added.</summary>
    private static void AccumulateGpu(Variable v, Action<GpuTensor> write)
    {
        var device = v.Value.Device!;
        if (v.Grad is null)
        {
            v.Grad = Tensor.Uninitialized(device, v.Value.Shape.ToArray());
            write(v.Grad.Gpu);
            return;
        }
        using var part = Tensor.Uninitialized(device, v.Value.Shape.ToArray());
        write(part.Gpu);
        device.Kernels.Axpby(v.Grad.Gpu, part.Gpu, v.Grad.Gpu, 1f, 1f);
    }

    private Variable GpuConv2d(Variable x, Variable w, Variable? bias, WindowGeometry g, bool relu, string name)
    {
        var device = DeviceOf(name, x, w, bias);
        var k = device.Kernels;
        var y = Tensor.Uninitialized(device, g.N, g.OutH, g.OutW, w.Value.Dim(3));
        k.ConvForward(g, x.Value.Gpu, w.Value.Gpu, bias?.Value.Gpu, y.Gpu, relu);
        Variable[] inputs = bias is null ? [x, w] : [x, w, bias];
        bool filterGrad = w.RequiresGrad || bias is { RequiresGrad: true };
        return Record(y, name, inputs, () => dy =>
        {
            using var masked = relu ? Tensor.Uninitialized(device, dy.Shape.ToArray()) : null;
            if (masked is not null) k.ReluBackward(y.Gpu, dy.Gpu, masked.Gpu);
            var grad = masked ?? dy;
            if (x.RequiresGrad)
            {
                var (dx, acc) = GradTarget(x);
                k.ConvBackwardData(g, grad.Gpu, w.Value.Gpu, dx.Gpu, acc);
            }
            if (w.RequiresGrad)
            {
                var (dw, acc) = GradTarget(w);
                k.ConvBackwardFilter(g, x.Value.Gpu, grad.Gpu, dw.Gpu, acc);
            }
            if (bias is { RequiresGrad: true })
            {
                var (db, acc) = GradTarget(bias);
                k.ColumnSums(grad.Gpu, db.Gpu, acc);
            }
        }, saves: filterGrad ? [x] : null, savesOutput: relu, kind: $"conv{g.KernelH}x{g.KernelW}/{g.StrideH}");
    }

    private Variable GpuMaxPool(Variable x, WindowGeometry g, string name)
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, g.N, g.OutH, g.OutW, g.C);
        // Taps are ints in pooled device storage (4 bytes either way): no allocation per op.
        var tapStorage = device.Allocate(y.Length);
        var taps = tapStorage.View.Cast<int>();
        device.Kernels.MaxPoolForward(g, x.Value.Gpu, y.Gpu, taps);
        bool kept = false;
        var result = Record(y, name, [x], () =>
        {
            KeepForBackward(tapStorage);
            kept = true;
            return dy =>
            {
                var (dx, acc) = GradTarget(x);
                device.Kernels.MaxPoolBackward(g, dy.Gpu, taps, dx.Gpu, acc);
            };
        }, kind: "maxpool");
        if (!kept) tapStorage.Dispose(); // back to the pool; later kernels on the same stream run after this one
        return result;
    }

    private Variable GpuAvgPool(Variable x, WindowGeometry g, AvgPoolDivisor divisor, string name)
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, g.N, g.OutH, g.OutW, g.C);
        device.Kernels.AvgPoolForward(g, x.Value.Gpu, y.Gpu, divisor);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            device.Kernels.AvgPoolBackward(g, dy.Gpu, dx.Gpu, divisor, acc);
        }, kind: "avgpool");
    }

    private Variable GpuLrn(Variable x, LrnParameters p, string name)
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        device.Kernels.LrnForward(p, x.Value.Gpu, y.Gpu);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            device.Kernels.LrnBackward(p, x.Value.Gpu, dy.Gpu, dx.Gpu, acc);
        }, saves: [x], kind: "lrn");
    }

    private Variable GpuConcat(string name, Variable[] parts, int[] shape)
    {
        var device = DeviceOf(name, parts[0], parts);
        var y = Tensor.Uninitialized(device, shape);
        device.Kernels.ConcatForward(parts.Select(p => p.Value.Gpu).ToArray(), y.Gpu);
        return Record(y, name, parts, () => dy =>
        {
            var slices = parts.Select(p => Tensor.Uninitialized(device, p.Value.Shape.ToArray())).ToArray();
            device.Kernels.ConcatBackward(dy.Gpu, slices.Select(s => s.Gpu).ToArray());
            for (int i = 0; i < parts.Length; i++)
            {
                var part = parts[i];
                if (part.RequiresGrad && part.Grad is null) { part.Grad = slices[i]; continue; }
                if (part.RequiresGrad) device.Kernels.Axpby(part.Grad!.Gpu, slices[i].Gpu, part.Grad.Gpu, 1f, 1f);
                slices[i].Dispose();
            }
        }, kind: "concat");
    }

    private Variable GpuUnary(Variable x, string name, string kind, Action<GpuKernels, GpuTensor, GpuTensor> forward,
        Action<GpuKernels, Tensor /*y*/, GpuTensor /*dy*/, GpuTensor /*dx*/> backward, bool savesX = false, bool savesY = false)
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        forward(device.Kernels, x.Value.Gpu, y.Gpu);
        return Record(y, name, [x], () => dy => AccumulateGpu(x, dx => backward(device.Kernels, y, dy.Gpu, dx)),
            saves: savesX ? [x] : null, savesOutput: savesY, kind: kind);
    }

    private Variable GpuRelu(Variable x, string name) => GpuUnary(x, name, "relu",
        (k, input, output) => k.ReluBackward(input, input, output),  // x where x > 0: ReLU's forward is its own mask applied to x
        (k, y, dy, dx) => k.ReluBackward(y.Gpu, dy, dx), savesY: true);

    private Variable GpuMinimum(Variable x, float c, string name) => GpuUnary(x, name, "minimum",
        (k, input, output) => k.Minimum(input, output, c),
        (k, _, dy, dx) => k.MinimumBackward(x.Value.Gpu, dy, dx, c, accumulate: false), savesX: true);

    private Variable GpuSoftmax(Variable x, int classes, string name) => GpuUnary(x, name, "softmax",
        (k, input, output) => k.Softmax(input, output, classes),
        (k, y, dy, dx) => k.SoftmaxBackward(y.Gpu, dy, dx, classes), savesY: true);

    private Variable GpuLogSoftmax(Variable x, int classes, string name) => GpuUnary(x, name, "log_softmax",
        (k, input, output) => k.LogSoftmax(input, output, classes),
        (k, y, dy, dx) => k.LogSoftmaxBackward(y.Gpu, dy, dx, classes), savesY: true);

    private Variable GpuScale(Variable x, float s, string name) => GpuUnary(x, name, "scale",
        (k, input, output) => k.Axpby(input, input, output, s, 0f),
        (k, _, dy, dx) => k.Axpby(dy, dy, dx, s, 0f));

    /// <summary>Fully connected as a 1×1 convolution of [N, 1, 1, I] with [1, 1, I, O] (same layouts as [N, I] and [I, O]).</summary>
    private Variable GpuFullyConnected(Variable x, Variable w, Variable? bias, string name)
    {
        var device = DeviceOf(name, x, w, bias);
        var k = device.Kernels;
        int n = x.Value.Dim(0), inputs = w.Value.Dim(0), outputs = w.Value.Dim(1);
        if (x.Value.Length != n * inputs)
            throw new ArgumentException($"{name}: input shape {x.Value.ShapeString} does not flatten to [{n}, {inputs}] for weights {w.Value.ShapeString}.");
        var g = new WindowGeometry(n, 1, 1, inputs, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1);
        var y = Tensor.Uninitialized(device, n, outputs);
        using (var xv = x.Value.Gpu.Reshape([n, 1, 1, inputs]))
        using (var wv = w.Value.Gpu.Reshape([1, 1, inputs, outputs]))
        using (var yv = y.Gpu.Reshape([n, 1, 1, outputs]))
            k.ConvForward(g, xv, wv, bias?.Value.Gpu, yv, relu: false);
        Variable[] inputsVars = bias is null ? [x, w] : [x, w, bias];
        return Record(y, name, inputsVars, () => dy =>
        {
            using var dyv = dy.Gpu.Reshape([n, 1, 1, outputs]);
            using var wv = w.Value.Gpu.Reshape([1, 1, inputs, outputs]);
            if (x.RequiresGrad)
            {
                var (dx, acc) = GradTarget(x);
                using var dxv = dx.Gpu.Reshape([n, 1, 1, inputs]);
                k.ConvBackwardData(g, dyv, wv, dxv, acc);
            }
            if (w.RequiresGrad)
            {
                var (dw, acc) = GradTarget(w);
                using var xv = x.Value.Gpu.Reshape([n, 1, 1, inputs]);
                using var dwv = dw.Gpu.Reshape([1, 1, inputs, outputs]);
                k.ConvBackwardFilter(g, xv, dyv, dwv, acc);
            }
            if (bias is { RequiresGrad: true })
            {
                var (db, acc) = GradTarget(bias);
                k.ColumnSums(dy.Gpu, db.Gpu, acc);
            }
        }, saves: w.RequiresGrad ? [x] : null, kind: "fc");
    }

    private Variable GpuAdd(Variable a, Variable b, string name)
    {
        var device = DeviceOf(name, a, b);
        var y = Tensor.Uninitialized(device, a.Value.Shape.ToArray());
        device.Kernels.Axpby(a.Value.Gpu, b.Value.Gpu, y.Gpu, 1f, 1f);
        return Record(y, name, [a, b], () => dy =>
        {
            foreach (var v in new[] { a, b })
                if (v.RequiresGrad) AccumulateGpu(v, dx => device.Kernels.Axpby(dy.Gpu, dy.Gpu, dx, 1f, 0f));
        }, kind: "add");
    }

    private Variable GpuMul(Variable a, Variable b, string name)
    {
        var device = DeviceOf(name, a, b);
        var y = Tensor.Uninitialized(device, a.Value.Shape.ToArray());
        device.Kernels.Multiply(a.Value.Gpu, b.Value.Gpu, y.Gpu);
        return Record(y, name, [a, b], () => dy =>
        {
            if (a.RequiresGrad) { var (da, acc) = GradTarget(a); device.Kernels.Multiply(dy.Gpu, b.Value.Gpu, da.Gpu, acc); }
            if (b.RequiresGrad) { var (db, acc) = GradTarget(b); device.Kernels.Multiply(dy.Gpu, a.Value.Gpu, db.Gpu, acc); }
        }, saves: [a, b], kind: "mul");
    }

    private Variable GpuSum(Variable x, float scale, string name)
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, 1);
        device.Kernels.Sum(x.Value.Gpu, y.Gpu);
        if (scale != 1f) device.Kernels.Axpby(y.Gpu, y.Gpu, y.Gpu, scale, 0f);
        return Record(y, name, [x], () => dy =>
        {
            using var seed = dy.ToHost();
            var (dx, acc) = GradTarget(x);
            device.Kernels.Fill(dx.Gpu, seed[0] * scale, acc);
        }, kind: "sum");
    }

    private Variable GpuSelectColumn(Variable x, int column, string name)
    {
        var device = DeviceOf(name, x);
        int n = x.Value.Dim(0), columns = x.Value.Dim(1);
        var y = Tensor.Uninitialized(device, n);
        device.Kernels.SelectColumn(x.Value.Gpu, y.Gpu, columns, column, scatter: false);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (!acc) device.Kernels.Fill(dx.Gpu, 0f);
            device.Kernels.SelectColumn(dx.Gpu, dy.Gpu, columns, column, scatter: true);
        }, kind: "select");
    }

    private Variable GpuReshape(Variable x, int[] shape, string name)
    {
        var device = DeviceOf(name, x);
        using var view = x.Value.Reshape(shape);
        var y = view.Clone();
        return Record(y, name, [x], () => dy =>
            AccumulateGpu(x, dx =>
            {
                using var flat = dy.Gpu.Reshape(x.Value.Shape.ToArray());
                device.Kernels.Axpby(flat, flat, dx, 1f, 0f);
            }), kind: "reshape");
    }

    private Variable GpuChannelAffine(Variable x, int[] source, float[] scale, float[] shift, string name)
    {
        var device = DeviceOf(name, x);
        // The three small tables share one pooled device buffer: [scale | shift | source as int bits].
        int c = source.Length;
        var table = device.Allocate(3 * c);
        var packed = new float[3 * c];
        scale.CopyTo(packed, 0);
        shift.CopyTo(packed, c);
        for (int i = 0; i < c; i++) packed[2 * c + i] = BitConverter.Int32BitsToSingle(source[i]);
        table.View.CopyFromCPU(packed);
        var scaleView = table.View.SubView(0, c);
        var sourceView = table.View.SubView(2 * c, c).Cast<int>();
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        device.Kernels.ChannelAffine(x.Value.Gpu, y.Gpu, sourceView, scaleView, table.View.SubView(c, c));
        bool kept = false;
        var result = Record(y, name, [x], () =>
        {
            KeepForBackward(table);
            kept = true;
            return dy =>
            {
                var (dx, acc) = GradTarget(x);
                device.Kernels.ChannelAffineBackward(dy.Gpu, dx.Gpu, sourceView, scaleView, acc);
            };
        }, kind: "channel_affine");
        if (!kept) table.Dispose();
        return result;
    }
}
