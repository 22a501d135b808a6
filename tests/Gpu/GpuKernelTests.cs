using ILGPU.Runtime;
using NativeIg.Tensors;
using NativeIg.Gpu;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// Every GPU kernel against the CPU reference kernels, on ILGPU's CPU accelerator, small and odd shapes.
/// Tolerances as for the CPU kernels (float32 sums in another order: 2e-6·√K relative).
/// </summary>
[Collection("ilgpu")]
public class GpuKernelTests(IlgpuCpuFixture fixture)
{
    private GpuDevice Device => fixture.Device;
    private GpuKernels K => Device.Kernels;

    [Theory]
    [MemberData(nameof(GemmShapes))] // the last: more than one 128×64 block each way, K not a multiple of the slab
    public void GemmMatchesReferenceWithTransposes(int m, int n, int k) => CheckGemm(Device, m, n, k);

    public static TheoryData<int, int, int> GemmShapes => new() { { 1, 1, 1 }, { 17, 5, 33 }, { 40, 37, 16 }, { 131, 67, 19 } };

    internal static void CheckGemm(GpuDevice device, int m, int n, int k)
    {
        foreach (bool transA in new[] { false, true })
            foreach (bool transB in new[] { false, true })
            {
                var a = Random(m * k, 1); var b = Random(k * n, 2);
                var expected = new float[m * n];
                GemmReference.Multiply(m, n, k, a, transA ? m : k, transA, b, transB ? k : n, transB, expected, n);
                using var A = device.Upload(Tensor.FromSpan(a, m * k));
                using var B = device.Upload(Tensor.FromSpan(b, k * n));
                using var C = device.Allocate(m * n);
                device.Kernels.Gemm(m, n, k, A, transA ? m : k, transA, B, transB ? k : n, transB, C);
                using var c = C.ToHost();
                AssertClose(expected, c.Span, 1e-6, DotTolerance(k), $"GPU GEMM {m}×{n}×{k} tA={transA} tB={transB}");
            }
    }

    public static TheoryData<int, int, int, int, int, int, int> ConvShapes => new()
    {
        // n, size, ci, kernel, stride, pad, co
        { 1, 1, 1, 1, 1, 0, 1 }, { 2, 5, 3, 3, 1, 1, 7 }, { 1, 9, 3, 7, 2, 3, 5 }, { 1, 6, 4, 5, 1, 2, 3 }, { 2, 7, 17, 1, 1, 0, 18 }, { 1, 8, 2, 2, 3, 0, 4 },
        { 2, 9, 5, 3, 1, 1, 67 }, // 162 pixels × 67 channels: several register-blocked tiles, ragged edges
        { 3, 11, 3, 7, 2, 3, 9 }, // conv1-like: 7×7 stride 2 into 3 channels, several images
    };

    [Theory]
    [MemberData(nameof(ConvShapes))]
    public void ConvolutionForwardAndBackwardMatchCpu(int n, int size, int ci, int kernel, int stride, int pad, int co) =>
        CheckConvolution(Device, n, size, ci, kernel, stride, pad, co);

    internal static void CheckConvolution(GpuDevice device, int n, int size, int ci, int kernel, int stride, int pad, int co)
    {
        var g = WindowGeometry.ConvCaffe(n, size, size, ci, kernel, stride, pad);
        int k = kernel * kernel * ci;
        var x = Random(n * size * size * ci, 3); var w = Random(k * co, 4); var b = Random(co, 5);
        var dy = Random(g.N * g.OutH * g.OutW * co, 6);
        using var X = device.Upload(Tensor.FromSpan(x, g.InputShape));
        using var W = device.Upload(Tensor.FromSpan(w, kernel, kernel, ci, co));
        using var B = device.Upload(Tensor.FromSpan(b, co));
        using var Y = device.Allocate(g.N, g.OutH, g.OutW, co);
        device.Kernels.ConvForward(g, X, W, B, Y, relu: true);
        var expected = ToFloat(Conv2dReference.Forward(g, ToDouble(x), ToDouble(w), ToDouble(b), co, relu: true));
        using (var y = Y.ToHost()) AssertClose(expected, y.Span, 1e-6, DotTolerance(k), $"GPU conv forward {g}");

        using var DY = device.Upload(Tensor.FromSpan(dy, g.N, g.OutH, g.OutW, co));
        using var DX = device.Allocate(g.InputShape);
        device.Kernels.ConvBackwardData(g, DY, W, DX);
        var expectedDx = ToFloat(Conv2dReference.BackwardData(g, ToDouble(dy), ToDouble(w), co));
        using (var dx = DX.ToHost()) AssertClose(expectedDx, dx.Span, 1e-6, DotTolerance(k * co), $"GPU conv backward-data {g}");
        if (stride > 1)
        {
            // Strided backward-data goes through dCol slices: one image per slice, accumulating onto the first result.
            long budget = device.Kernels.ColumnBudget;
            device.Kernels.ColumnBudget = 1;
            try { device.Kernels.ConvBackwardData(g, DY, W, DX, accumulate: true); }
            finally { device.Kernels.ColumnBudget = budget; }
            using var dx = DX.ToHost();
            AssertClose(expectedDx.Select(v => 2 * v).ToArray(), dx.Span, 1e-6, DotTolerance(k * co), $"GPU conv backward-data, sliced and accumulated {g}");
        }

        using var DW = device.Allocate(kernel, kernel, ci, co);
        device.Kernels.ConvBackwardFilter(g, X, DY, DW);
        var expectedDw = ToFloat(Conv2dReference.BackwardFilter(g, ToDouble(x), ToDouble(dy), co).Filter);
        using (var dw = DW.ToHost()) AssertClose(expectedDw, dw.Span, 1e-6, DotTolerance(g.OutputPixels), $"GPU conv backward-filter {g}");
        device.Kernels.ConvBackwardFilter(g, X, DY, DW, accumulate: true);
        using (var dw = DW.ToHost()) AssertClose(expectedDw.Select(v => 2 * v).ToArray(), dw.Span, 1e-6, DotTolerance(g.OutputPixels), $"GPU conv backward-filter, accumulated {g}");
    }

    [Theory]
    [InlineData(1, 7, 3, 3, 2, 0)]
    [InlineData(2, 5, 17, 3, 1, 1)]
    [InlineData(1, 9, 4, 2, 3, 0)]
    public void PoolingMatchesCpu(int n, int size, int c, int kernel, int stride, int pad)
    {
        var g = WindowGeometry.PoolCaffe(n, size, size, c, kernel, stride, pad);
        var x = Random(n * size * size * c, 7);
        using var X = Device.Upload(Tensor.FromSpan(x, g.InputShape));
        using var Y = Device.Allocate(n, g.OutH, g.OutW, c);
        using var tapStorage = Device.Allocate(Y.Length);
        var taps = tapStorage.View.Cast<int>();
        K.MaxPoolForward(g, X, Y, taps);
        var expected = ToFloat(Pool2dReference.MaxForward(g, ToDouble(x), out var expectedTaps));
        using (var y = Y.ToHost()) Assert.Equal(expected, y.ToArray());
        Device.Synchronize();
        var recordedTaps = new int[Y.Length];
        taps.CopyToCPU(recordedTaps);
        Assert.Equal(expectedTaps.Select(t => (int)t).ToArray(), recordedTaps);

        var dy = Random(Y.Length, 8);
        using var DY = Device.Upload(Tensor.FromSpan(dy, n, g.OutH, g.OutW, c));
        using var DX = Device.Allocate(g.InputShape);
        K.MaxPoolBackward(g, DY, taps, DX);
        var expectedDx = Pool2dReference.MaxBackward(g, ToDouble(dy), expectedTaps);
        using (var dx = DX.ToHost()) AssertClose(expectedDx, dx.Span, 1e-6, 1e-6, "GPU max pool backward");

        foreach (var divisor in new[] { AvgPoolDivisor.IncludePadding, AvgPoolDivisor.ValidOnly })
        {
            K.AvgPoolForward(g, X, Y, divisor);
            var expectedAvg = Pool2dReference.AvgForward(g, ToDouble(x), divisor);
            using (var y = Y.ToHost()) AssertClose(expectedAvg, y.Span, 1e-6, 1e-6, $"GPU avg pool {divisor}");
            K.AvgPoolBackward(g, DY, DX, divisor);
            using (var dx = DX.ToHost()) AssertClose(Pool2dReference.AvgBackward(g, ToDouble(dy), divisor), dx.Span, 1e-6, 1e-6, $"GPU avg pool backward {divisor}");
        }
    }

    [Theory]
    [InlineData(5, 0.75f, 7)]
    [InlineData(4, 0.6f, 3)]
    public void LrnMatchesCpu(int size, float beta, int channels)
    {
        var p = new LrnParameters(size, 0.5f, beta, 1.5f);
        var x = Random(6 * channels, 9, -2, 2); var dy = Random(6 * channels, 10);
        using var X = Device.Upload(Tensor.FromSpan(x, 1, 2, 3, channels));
        using var Y = Device.Allocate(1, 2, 3, channels);
        K.LrnForward(p, X, Y);
        var expected = LrnReference.Forward(p, ToDouble(x), channels);
        using (var y = Y.ToHost()) AssertClose(expected, y.Span, 1e-6, 1e-5, "GPU LRN forward");
        using var DY = Device.Upload(Tensor.FromSpan(dy, 1, 2, 3, channels));
        using var DX = Device.Allocate(1, 2, 3, channels);
        K.LrnBackward(p, X, DY, DX);
        var expectedDx = LrnReference.Backward(p, ToDouble(x), ToDouble(dy), channels);
        using (var dx = DX.ToHost()) AssertClose(expectedDx, dx.Span, 1e-6, 1e-5, "GPU LRN backward");
    }

    [Fact]
    public void SoftmaxReluConcatAndElementwiseMatchCpu()
    {
        var x = Random(3 * 11, 11, -5, 5); var dy = Random(3 * 11, 12);
        using var X = Device.Upload(Tensor.FromSpan(x, 3, 11));
        using var Y = Device.Allocate(3, 11);
        K.Softmax(X, Y, 11);
        var expectedY = SoftmaxReference.Forward(ToDouble(x), 11);
        var expected = ToFloat(expectedY);
        using (var y = Y.ToHost()) AssertClose(expected, y.Span, 1e-7, 1e-6, "GPU softmax");
        using var DY = Device.Upload(Tensor.FromSpan(dy, 3, 11));
        using var DX = Device.Allocate(3, 11);
        K.SoftmaxBackward(Y, DY, DX, 11);
        var expectedDx = SoftmaxReference.Backward(expectedY, ToDouble(dy), 11);
        using (var dx = DX.ToHost()) AssertClose(expectedDx, dx.Span, 1e-7, 1e-5, "GPU softmax backward");

        K.ReluBackward(X, DY, DX);
        using (var dx = DX.ToHost())
            for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] > 0 ? dy[i] : 0f, dx[i]);

        using var A = Device.Upload(Tensor.FromSpan(Random(2 * 3 * 2, 13), 2, 3, 2));
        using var Bt = Device.Upload(Tensor.FromSpan(Random(2 * 3 * 5, 14), 2, 3, 5));
        using var cat = Device.Allocate(2, 3, 7);
        K.ConcatForward([A, Bt], cat);
        using var a = A.ToHost(); using var b = Bt.ToHost();
        using var cpuCat = Tensor.Uninitialized(2, 3, 7);
        ChannelConcat.Forward([a, b], cpuCat);
        using (var gpuCat = cat.ToHost()) Assert.Equal(cpuCat.ToArray(), gpuCat.ToArray());
        using var dA = Device.Allocate(2, 3, 2);
        using var dB = Device.Allocate(2, 3, 5);
        K.ConcatBackward(cat, 0, dA);
        K.ConcatBackward(cat, 2, dB);
        using (var back = dA.ToHost()) Assert.Equal(a.ToArray(), back.ToArray());
        using (var back = dB.ToHost()) Assert.Equal(b.ToArray(), back.ToArray());
        K.ConcatBackward(cat, 2, dB, accumulate: true);
        using (var back = dB.ToHost()) Assert.Equal(b.ToArray().Select(v => 2 * v).ToArray(), back.ToArray());

        using var sum = Device.Allocate(2, 3, 2);
        K.Axpby(A, dA, sum, 2f, -1f);
        using (var s = sum.ToHost())
            for (int i = 0; i < s.Length; i++) Assert.Equal(a[i], s[i], 6); // 2a − a
    }

    [Theory]
    [InlineData(1)]
    [InlineData(257)]
    [InlineData(70001)] // more than one group's grid-stride share
    public void SumMatchesCpu(int length) => CheckSum(Device, length);

    internal static void CheckSum(GpuDevice device, int length)
    {
        var x = Random(length, 17);
        using var X = device.Upload(Tensor.FromSpan(x, length));
        using var result = device.Allocate(1);
        device.Kernels.Fill(result, 123f); // Sum overwrites, it does not add
        device.Kernels.Sum(X, result);
        using var host = result.ToHost();
        double expected = x.Sum(v => (double)v);
        Assert.True(Math.Abs(host[0] - expected) <= 1e-6 * x.Sum(v => Math.Abs((double)v)) + 1e-6, $"GPU sum of {length}: {host[0]} vs {expected}");
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(999, 3)]
    [InlineData(20001, 7)] // bands of rows meet in atomic adds
    public void ColumnSumsMatchCpu(int rows, int columns) => CheckColumnSums(Device, rows, columns);

    internal static void CheckColumnSums(GpuDevice device, int rows, int columns)
    {
        var x = Random(rows * columns, 18);
        var start = Random(columns, 19);
        using var X = device.Upload(Tensor.FromSpan(x, rows, columns));
        using var sums = device.Upload(Tensor.FromSpan(start, columns));
        device.Kernels.ColumnSums(X, sums, accumulate: true);
        using var accumulated = sums.ToHost();
        device.Kernels.ColumnSums(X, sums, accumulate: false);
        using var overwritten = sums.ToHost();
        for (int c = 0; c < columns; c++)
        {
            double expected = 0, magnitude = 0;
            for (int r = 0; r < rows; r++) { expected += x[r * columns + c]; magnitude += Math.Abs(x[r * columns + c]); }
            double tolerance = 1e-6 * magnitude + 1e-6;
            Assert.True(Math.Abs(overwritten[c] - expected) <= tolerance, $"column {c} of {rows}×{columns}: {overwritten[c]} vs {expected}");
            Assert.True(Math.Abs(accumulated[c] - (expected + start[c])) <= tolerance, $"accumulated column {c}: {accumulated[c]} vs {expected + start[c]}");
        }
    }

    /// <summary>IG's on-device path work: interpolation (exact endpoints), the float64 weighted row sum, row sums.</summary>
    [Fact]
    public void PathKernelsMatchCpu() => CheckPathKernels(Device);

    internal static void CheckPathKernels(GpuDevice device)
    {
        using var image = TestUtil.RandomTensor(60, 7, 5, 3);
        using var baseline = TestUtil.RandomTensor(61, 7, 5, 3);
        double[] alphas = [0, 0.3, 1, 0.77, 1e-3];
        using var expectedPath = NativeIg.Ig.IntegratedGradients.InterpolateImages(baseline, image, alphas);
        using var X = device.Upload(image);
        using var B = device.Upload(baseline);
        using var alphaBuffer = device.Accelerator.Allocate1D(alphas.Select(a => (float)a).ToArray());
        using var path = device.Allocate(alphas.Length, 7, 5, 3);
        device.Kernels.Interpolate(B, X, alphaBuffer.View, path);
        using var hostPath = path.ToHost();
        int size = image.Length;
        Assert.Equal(baseline.ToArray(), hostPath.Span[..size].ToArray());
        Assert.Equal(image.ToArray(), hostPath.Span.Slice(2 * size, size).ToArray());
        AssertClose(expectedPath.Span, hostPath.Span, 1e-7, 1e-6, "GPU interpolation");

        double[] weights = [0.5, -2, 1.25, 3, 0.125];
        var start = Random(size, 62).Select(v => (double)v).ToArray();
        using var weightBuffer = device.Accelerator.Allocate1D(weights);
        using var sumBuffer = device.Accelerator.Allocate1D(start);
        device.Kernels.AccumulateWeightedRows(path, weightBuffer.View, sumBuffer.View);
        using var rowSums = device.Accelerator.Allocate1D<float>(alphas.Length);
        device.Kernels.RowSums(path, rowSums.View);
        device.Synchronize();
        var sum = sumBuffer.GetAsArray1D();
        var sums = rowSums.GetAsArray1D();
        var p = hostPath.Span;
        for (int i = 0; i < size; i++)
        {
            double expected = start[i];
            for (int r = 0; r < alphas.Length; r++) expected += weights[r] * p[r * size + i];
            Assert.Equal(expected, sum[i], 12);
        }
        for (int r = 0; r < alphas.Length; r++)
        {
            double expected = 0;
            for (int i = 0; i < size; i++) expected += p[r * size + i];
            Assert.Equal(expected, sums[r], 4);
        }
    }

    /// <summary>Regression: an intermediate freed after the forward (nothing saves it) got a host gradient buffer in backward.</summary>
    [Fact]
    public void AFreedIntermediateStillGetsItsGradientOnTheDevice()
    {
        using var host = Tensor.FromSpan(Random(2 * 6, 60), 2, 1, 1, 6);
        using var x = host.To(Device);
        using var wHost = Tensor.FromSpan(Random(6 * 3, 61), 6, 3);
        using var w = wHost.To(Device);
        using var tape = new NativeIg.Autodiff.Tape();
        var input = tape.Input(x);
        var flat = tape.Reshape(input, [2, 6]);
        var y = tape.FullyConnected(flat, NativeIg.Autodiff.Variable.Parameter(w, "w"), null); // frozen w: flat is not saved
        tape.Free(flat);
        tape.Backward(tape.Sum(y));
        Assert.Same(Device, input.Grad!.Device);
        using var dx = input.Grad.ToHost();
        // d Σ(x·W)/dx = the row sums of W, for each of the 2 rows.
        for (int i = 0; i < 6; i++) Assert.Equal(wHost[i * 3] + wHost[i * 3 + 1] + wHost[i * 3 + 2], dx[6 + i], 5);
        input.Grad.Dispose();
    }

    [Fact]
    public void WrongShapesAndUnknownDevicesFailClearly()
    {
        var g = WindowGeometry.ConvCaffe(1, 4, 4, 3, 3, 1, 1);
        using var X = Device.Allocate(1, 4, 4, 2);
        using var W = Device.Allocate(3, 3, 3, 2);
        using var Y = Device.Allocate(1, 4, 4, 2);
        var e = Assert.Throws<ArgumentException>(() => K.ConvForward(g, X, W, null, Y, false));
        Assert.Contains("[1, 4, 4, 2]", e.Message);
        Assert.Contains("[1, 4, 4, 3]", e.Message);
        Assert.Contains("vulkan", Assert.Throws<ArgumentException>(() => GpuDevice.Open("vulkan")).Message);
        Assert.Contains("ilgpu-cpu", GpuDevice.Present());
    }

    /// <summary>The same small Inception-style net, its input and parameter gradients, on the CPU and through the GPU backend.</summary>
    [Fact]
    public void GradientsThroughTheGpuBackendEqualTheCpuOnes()
    {
        var cpu = new CompositeNetworkTests.TinyInception(trainable: true, seed: 40);
        var gpu = new CompositeNetworkTests.TinyInception(trainable: true, seed: 40, Device);
        var x = Random(2 * 9 * 9 * 2, 41);
        using var seed = Tensor.FromSpan(Random(6, 42), 2, 3);
        (float[] Input, float[][] Parameters, float[] Probabilities) Run(CompositeNetworkTests.TinyInception net, NativeIg.Gpu.GpuDevice? device)
        {
            using var host = Tensor.FromSpan(x, 2, 9, 9, 2);
            using var X = host.To(device);
            using var tape = new NativeIg.Autodiff.Tape();
            var input = tape.Input(X);
            var p = tape.Softmax(net.Logits(tape, input));
            using var probabilities = p.Value.ToHost();
            var probabilityValues = probabilities.ToArray();
            tape.Backward(p, seed);
            using var dx = input.Grad!.ToHost();
            var grads = net.Parameters.Select(v => { using var g = v.Grad!.ToHost(); v.ZeroGrad(); return g.ToArray(); }).ToArray();
            input.Grad.Dispose();
            return (dx.ToArray(), grads, probabilityValues);
        }
        var onCpu = Run(cpu, null);
        var onGpu = Run(gpu, Device);
        AssertClose(onCpu.Probabilities, onGpu.Probabilities, 1e-6, 1e-5, "probabilities, GPU vs CPU");
        AssertClose(onCpu.Input, onGpu.Input, 1e-6, 1e-4, "dX, GPU vs CPU");
        for (int i = 0; i < onCpu.Parameters.Length; i++)
            AssertClose(onCpu.Parameters[i], onGpu.Parameters[i], 1e-6, 1e-4, $"d{cpu.Parameters.ElementAt(i).Name}, GPU vs CPU");
    }

    /// <summary>IG end to end on ILGPU's CPU accelerator equals IG on the CPU kernels.</summary>
    [Fact]
    public void IntegratedGradientsOfAReducedNetworkMatchTheCpu()
    {
        var cpu = new TinyModel(new CompositeNetworkTests.TinyInception(false, 50));
        var gpu = new TinyModel(new CompositeNetworkTests.TinyInception(false, 50, Device), Device);
        using var image = TestUtil.RandomTensor(51, 9, 9, 2);
        using var baseline = Tensor.Zeros(9, 9, 2);
        using var a = new NativeIg.Ig.IntegratedGradients(cpu).Attribute(image, baseline, 1, steps: 12, batchSize: 5);
        using var b = new NativeIg.Ig.IntegratedGradients(gpu).Attribute(image, baseline, 1, steps: 12, batchSize: 5);
        AssertClose(a.Attributions.Span, b.Attributions.Span, 1e-7, 1e-4, "IG attributions, GPU vs CPU");
        AssertClose(a.PathValues.Select(v => (float)v).ToArray(), b.PathValues.Select(v => (float)v).ToArray(), 1e-7, 1e-5, "F along the path, GPU vs CPU");
        AssertClose(a.MeanPathGradients.Select(v => (float)v).ToArray(), b.MeanPathGradients.Select(v => (float)v).ToArray(), 1e-7, 1e-4, "mean path gradients, GPU vs CPU");
        Assert.Equal(a.FInput, b.FInput, 5);
        Assert.Equal(a.Delta, b.Delta, 5);
    }

    /// <summary>The tape's per-op profile, on the host and on a device (where it synchronises after each op).</summary>
    [Fact]
    public void TapeProfileCountsEveryOpOnHostAndDevice()
    {
        foreach (var device in new GpuDevice?[] { null, Device })
        {
            var net = new CompositeNetworkTests.TinyInception(trainable: false, seed: 70, device);
            using var host = TestUtil.RandomTensor(71, 2, 9, 9, 2);
            using var x = host.To(device);
            var profile = new NativeIg.Autodiff.TapeProfile();
            using var tape = new NativeIg.Autodiff.Tape { Profile = profile };
            var input = tape.Input(x);
            var y = tape.SelectColumn(tape.Softmax(net.Logits(tape, input)), 1);
            using var seed = Tensor.Filled(1f, 2);
            tape.Backward(y, seed);
            input.Grad!.Dispose();
            var rows = profile.Rows();
            string where = device is null ? "cpu" : "ilgpu-cpu";
            Assert.True(rows.Where(r => r.Kind.StartsWith("conv", StringComparison.Ordinal)).Sum(r => r.Count) >= 6, $"{where}: {profile}");
            Assert.Contains(rows, r => r.Kind == "maxpool" && r.Count == 2);
            Assert.True(rows.Sum(r => r.ForwardMs) > 0, $"{where}: no forward time recorded");
            Assert.True(rows.Sum(r => r.BackwardMs) > 0, $"{where}: no backward time recorded");
        }
    }

    /// <summary>Out of device memory: idle pooled buffers are freed first; then a clear error that names the size and the remedy.</summary>
    [Fact]
    public void DeviceMemoryExhaustionTrimsThePoolThenFailsClearly()
    {
        try
        {
            Device.TrimIdleBuffers();
            using (Device.Allocate(1 << 20)) { } // 4 MiB, now idle in the pool
            long held = Device.BytesAllocated;
            Assert.True(held >= 4 << 20);
            Device.MemoryLimitBytes = held + (1 << 20); // room for 1 MiB more, not for 2 MiB
            using (var fits = Device.Allocate(1 << 19)) Assert.Equal(1 << 19, fits.Length); // 2 MiB: fits only once the idle 4 MiB are freed
            Assert.True(Device.BytesAllocated < held);

            var gpu = new TinyModel(new CompositeNetworkTests.TinyInception(false, 54, Device), Device);
            Device.TrimIdleBuffers();
            Device.MemoryLimitBytes = Device.BytesAllocated + 64 * 1024; // the parameters fit; a batch of 50 path images does not
            using var image = TestUtil.RandomTensor(55, 9, 9, 2);
            using var baseline = Tensor.Zeros(9, 9, 2);
            var e = Assert.Throws<DeviceMemoryException>(() => new NativeIg.Ig.IntegratedGradients(gpu).Attribute(image, baseline, 0, steps: 49, batchSize: 50));
            Assert.Contains("ilgpu-cpu", e.Message);
            Assert.Contains("MiB", e.Message);
            Assert.Contains("smaller batch", e.Message);
        }
        finally
        {
            Device.MemoryLimitBytes = null;
        }
    }

    /// <summary>Device buffers come from the pool: once warm, a whole IG call (every op, every chunk) allocates nothing.</summary>
    [Fact]
    public void RepeatedAttributionsAllocateNoDeviceMemory()
    {
        var gpu = new TinyModel(new CompositeNetworkTests.TinyInception(false, 52, Device), Device);
        var ig = new NativeIg.Ig.IntegratedGradients(gpu);
        using var image = TestUtil.RandomTensor(53, 9, 9, 2);
        using var baseline = Tensor.Zeros(9, 9, 2);
        using var first = ig.Attribute(image, baseline, 2, steps: 9, batchSize: 4);
        long warm = Device.BuffersCreated;
        using var again = ig.Attribute(image, baseline, 2, steps: 9, batchSize: 4);
        Assert.Equal(warm, Device.BuffersCreated);
        Assert.Equal(first.Attributions.ToArray(), again.Attributions.ToArray()); // and the pooled buffers held nothing stale
        Assert.NotEqual(0.0, again.Sum);
    }

    private sealed class TinyModel(CompositeNetworkTests.TinyInception net, GpuDevice? device = null) : NativeIg.Autodiff.IDifferentiableModel
    {
        public int[] ImageShape => [9, 9, 2];
        public int Classes => 3;
        public ComputeDevice? Device => device;
        public NativeIg.Autodiff.Variable Logits(NativeIg.Autodiff.Tape tape, NativeIg.Autodiff.Variable images) => net.Logits(tape, images);
    }

    [Fact]
    public void HostOnlyOperationsOnDeviceTensorsFailClearly()
    {
        using var host = TestUtil.RandomTensor(1, 3, 4);
        using var onDevice = host.To(Device);
        var e = Assert.Throws<InvalidOperationException>(() => onDevice.Span.Length);
        Assert.Contains("ilgpu-cpu", e.Message);
        using var back = onDevice.ToHost();
        Assert.Equal(host.ToArray(), back.ToArray());
        using var W = Tensor.Zeros(1, 1, 4, 2);
        var w = NativeIg.Autodiff.Variable.Parameter(W, "w");
        using var tape = new NativeIg.Autodiff.Tape();
        using var X = Tensor.Zeros(1, 2, 2, 4).To(Device);
        var mixed = Assert.Throws<ArgumentException>(() => tape.Conv2d(tape.Input(X), w, null, 1, 0));
        Assert.Contains("ToDevice", mixed.Message);
    }

    /// <summary>The kernel checks above, on real CUDA (ILGPU's PTX backend, not its CPU emulation).</summary>
    [CudaFact]
    public void CudaKernelsMatchCpu()
    {
        using var cuda = GpuDevice.Open("cuda");
        foreach (var shape in GemmShapes) CheckGemm(cuda, (int)shape[0], (int)shape[1], (int)shape[2]);
        CheckGemm(cuda, 1000, 300, 777);
        foreach (var c in ConvShapes)
            CheckConvolution(cuda, (int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)c[4], (int)c[5], (int)c[6]);
        CheckConvolution(cuda, 4, 28, 96, 3, 1, 1, 128); // inception_3a/3x3-sized
        CheckConvolution(cuda, 2, 30, 3, 7, 2, 3, 64);   // conv1-sized
        foreach (int length in new[] { 1, 257, 70001, 3_000_001 }) CheckSum(cuda, length);
        CheckPathKernels(cuda);
        foreach (var (rows, columns) in new[] { (1, 1), (999, 3), (3_000_000, 64) }) CheckColumnSums(cuda, rows, columns);
    }
}
