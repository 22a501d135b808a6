using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Element-wise kernels and reductions: ReLU's gradient, axpby, products, minimum, fill, column and total sums, column select.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _reluBackward = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, int> _axpby = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _multiply = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, float, int> _minimum = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int> _minimumBackward = null!;
    private Action<Index1D, ArrayView<float>, float, int> _fill = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _columnSums = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> _selectColumn = null!;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> _sum = null!;

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _addRows = null!;

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ActivationFunction> _activation = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ActivationFunction, int> _activationBackward = null!;

    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int> _scaleChannels = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _scaleChannelsBackwardScale = null!;

    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int> _flattenChannelsFirst = null!;

    private void LoadElementwiseKernels(Accelerator accelerator)
    {
        _flattenChannelsFirst = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(FlattenChannelsFirstKernel);
        _scaleChannels = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>(ScaleChannelsKernel);
        _scaleChannelsBackwardScale = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(ScaleChannelsBackwardScaleKernel);
        _activation = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ActivationFunction>(ActivationKernel);
        _activationBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ActivationFunction, int>(ActivationBackwardKernel);
        _addRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(AddRowsKernel);
        _reluBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(ReluBackwardKernel);
        _axpby = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, float, int>(AxpbyKernel);
        _multiply = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(MultiplyKernel);
        _minimum = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, float, int>(MinimumKernel);
        _minimumBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, float, int>(MinimumBackwardKernel);
        _fill = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, float, int>(FillKernel);
        _columnSums = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(ColumnSumsKernel);
        _selectColumn = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int>(SelectColumnKernel);
        _sum = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(SumKernel);
    }

    /// <summary>dx = dy where y &gt; 0 (ReLU's gradient).</summary>
    public override void ReluBackward(DeviceTensor y, DeviceTensor dy, DeviceTensor dx, bool accumulate = false) => _reluBackward(y.Length, y.View, dy.View, dx.View, accumulate ? 1 : 0);

    private static void ReluBackwardKernel(Index1D i, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int accumulate)
    {
        float v = y[i] > 0f ? dy[i] : 0f;
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }


    /// <summary>z = α·x + β·y element-wise (add: 1, 1; scale: s, 0). With β = 0, y is not read (it may be uninitialised).</summary>
    public override void Axpby(DeviceTensor x, DeviceTensor y, DeviceTensor z, float alpha, float beta) => _axpby(z.Length, x.View, y.View, z.View, alpha, beta, 0);

    private static void AxpbyKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, float alpha, float beta, int unused) =>
        z[i] = beta == 0f ? alpha * x[i] : alpha * x[i] + beta * y[i];

    /// <summary>z (+)= x ⊙ y.</summary>
    public override void Multiply(DeviceTensor x, DeviceTensor y, DeviceTensor z, bool accumulate = false) => _multiply(z.Length, x.View, y.View, z.View, accumulate ? 1 : 0);

    private static void MultiplyKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> z, int accumulate) =>
        z[i] = accumulate != 0 ? z[i] + x[i] * y[i] : x[i] * y[i];

    /// <inheritdoc />
    public override void Minimum(DeviceTensor x, DeviceTensor y, float c) => _minimum(y.Length, x.View, y.View, c, 0);

    private static void MinimumKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, float c, int unused) => y[i] = XMath.Min(x[i], c);

    /// <summary>dx (+)= dy where x ≤ c (TensorFlow's tie rule), as on the CPU.</summary>
    public override void MinimumBackward(DeviceTensor x, DeviceTensor dy, DeviceTensor dx, float c, bool accumulate) => _minimumBackward(dx.Length, x.View, dy.View, dx.View, c, accumulate ? 1 : 0);

    private static void MinimumBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, float c, int accumulate)
    {
        float g = x[i] <= c ? dy[i] : 0f;
        dx[i] = accumulate != 0 ? dx[i] + g : g;
    }

    /// <summary>y (+)= value everywhere.</summary>
    public override void Fill(DeviceTensor y, float value, bool accumulate = false) => _fill(y.Length, y.View, value, accumulate ? 1 : 0);

    private static void FillKernel(Index1D i, ArrayView<float> y, float value, int accumulate) => y[i] = accumulate != 0 ? y[i] + value : value;

    /// <summary>
    /// sums[c] (+)= Σ_rows x[row, c] (bias gradients). A conv's bias sees millions of rows and few
    /// columns, so the rows are split into bands (about 64 K threads in all, neighbouring threads on
    /// neighbouring columns) whose partial sums meet in atomic adds.
    /// </summary>
    public override void ColumnSums(DeviceTensor x, DeviceTensor sums, bool accumulate)
    {
        int columns = sums.Length, rows = x.Length / columns;
        if (!accumulate) Fill(sums, 0f);
        int bands = Math.Clamp(65536 / columns, 1, Math.Max(1, rows));
        int rowsPerBand = (rows + bands - 1) / bands;
        bands = (rows + rowsPerBand - 1) / rowsPerBand;
        if (bands == 0) return;
        _columnSums(bands * columns, x.View, sums.View, rows, rowsPerBand);
    }

    private static void ColumnSumsKernel(Index1D i, ArrayView<float> x, ArrayView<float> sums, int rows, int rowsPerBand)
    {
        int columns = (int)sums.Length, c = i % columns, band = i / columns;
        int end = XMath.Min(rows, (band + 1) * rowsPerBand);
        float s = 0f;
        for (int r = band * rowsPerBand; r < end; r++) s += x[(long)r * columns + c];
        Atomic.Add(ref sums[c], s);
    }

    /// <summary>y = f(x) for an <see cref="ActivationFunction"/> (the same float formula as the host's).</summary>
    public override void Activation(ActivationFunction f, DeviceTensor x, DeviceTensor y) => _activation(y.Length, x.View, y.View, f);

    private static void ActivationKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ActivationFunction f) => y[i] = f.Apply(x[i]);

    /// <summary>dx (+)= f′(x)·dy, from x and y = f(x).</summary>
    public override void ActivationBackward(ActivationFunction f, DeviceTensor x, DeviceTensor y, DeviceTensor dy, DeviceTensor dx, bool accumulate = false) =>
        _activationBackward(dx.Length, x.View, y.View, dy.View, dx.View, f, accumulate ? 1 : 0);

    private static void ActivationBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, ActivationFunction f, int accumulate)
    {
        float v = f.Derivative(x[i], y[i]) * dy[i];
        dx[i] = accumulate != 0 ? dx[i] + v : v;
    }

    /// <summary>y (+)= x[n, …, c]·s[n, c] (forward, and the input's gradient with dy as x); one thread per element.</summary>
    public override void ScaleChannels(DeviceTensor x, DeviceTensor s, DeviceTensor y, bool accumulate = false) =>
        _scaleChannels(y.Length, x.View, s.View, y.View, s.Dim(1), (int)(y.Length / s.Dim(0)), accumulate ? 1 : 0);

    private static void ScaleChannelsKernel(Index1D i, ArrayView<float> x, ArrayView<float> s, ArrayView<float> y, int channels, int perImage, int accumulate)
    {
        float v = x[i] * s[i / perImage * channels + i % channels];
        y[i] = accumulate != 0 ? y[i] + v : v;
    }

    /// <summary>ds[n, c] (+)= Σ over the image's pixels of dy ⊙ x; one thread per scale.</summary>
    public override void ScaleChannelsBackwardScale(DeviceTensor dy, DeviceTensor x, DeviceTensor ds, bool accumulate = false) =>
        _scaleChannelsBackwardScale(ds.Length, dy.View, x.View, ds.View, ds.Dim(1), accumulate ? 1 : 0);

    private static void ScaleChannelsBackwardScaleKernel(Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> ds, int channels, int accumulate)
    {
        int n = i / channels, c = i % channels;
        long perImage = x.Length / (ds.Length / channels);
        float s = 0f;
        for (long at = n * perImage + c; at < (n + 1) * perImage; at += channels) s += dy[at] * x[at];
        ds[i] = accumulate != 0 ? ds[i] + s : s;
    }

    /// <summary>
    /// Between NHWC [N, H, W, C] and NCHW-ordered [N, C·H·W], one thread per NHWC element: mode 0 gathers
    /// into the flat order, 1 writes back, 2 adds back (the backward with accumulate): the
    /// <see cref="FlattenDirection"/> as the int a kernel parameter takes.
    /// </summary>
    public override void FlattenChannelsFirst(DeviceTensor map, DeviceTensor flat, int plane, int channels, FlattenDirection direction) =>
        _flattenChannelsFirst(map.Length, map.View, flat.View, plane, channels, (int)direction);

    private static void FlattenChannelsFirstKernel(Index1D i, ArrayView<float> map, ArrayView<float> flat, int plane, int channels, int mode)
    {
        int ch = i % channels, rest = i / channels, p = rest % plane, n = rest / plane;
        long nchw = ((long)n * channels + ch) * plane + p;
        if (mode == 0) flat[nchw] = map[i];
        else if (mode == 1) map[i] = flat[nchw];
        else map[i] += flat[nchw];
    }

    /// <summary>y = x + row, the row (length R) repeated over x's leading dimensions: a per-channel bias, or a mean image over a batch.</summary>
    public override void AddRows(DeviceTensor x, DeviceTensor row, DeviceTensor y) => _addRows(y.Length, x.View, row.View, y.View, row.Length);

    private static void AddRowsKernel(Index1D i, ArrayView<float> x, ArrayView<float> row, ArrayView<float> y, int length) =>
        y[i] = x[i] + row[i % length];

    /// <summary>toColumn = 0: y[n] = x[n, column]; toColumn = 1: x[n, column] += y[n] (the gradient).</summary>
    public override void SelectColumn(DeviceTensor x, DeviceTensor y, int columns, int column, bool scatter) => _selectColumn(y.Length, x.View, y.View, columns, column, scatter ? 1 : 0);

    private static void SelectColumnKernel(Index1D n, ArrayView<float> x, ArrayView<float> y, int columns, int column, int scatter)
    {
        long at = (long)(int)n * columns + column;
        if (scatter != 0) x[at] += y[n];
        else y[n] = x[at];
    }

    private const int SumGroup = 256;

    /// <summary>result[0] = Σ x: each group sums a grid-strided share, reduces it in shared memory, and adds its total atomically.</summary>
    public override void Sum(DeviceTensor x, DeviceTensor result)
    {
        Fill(result, 0f);
        int groups = Math.Clamp((x.Length + SumGroup * 8 - 1) / (SumGroup * 8), 1, 1024);
        _sum(new KernelConfig(groups, SumGroup), x.View, result.View, x.Length);
    }

    private static void SumKernel(ArrayView<float> x, ArrayView<float> result, int length)
    {
        float s = 0f;
        for (int i = Grid.IdxX * SumGroup + Group.IdxX; i < length; i += Grid.DimX * SumGroup) s += x[i];
        float total = GroupSum(s);
        if (Group.IdxX == 0) Atomic.Add(ref result[0], total);
    }

    /// <summary>The sum of <paramref name="value"/> over the group's threads (a shared-memory tree), returned to every thread.</summary>
    private static float GroupSum(float value)
    {
        var partial = SharedMemory.Allocate1D<float>(SumGroup);
        int t = Group.IdxX;
        partial[t] = value;
        Group.Barrier();
        for (int half = SumGroup / 2; half > 0; half /= 2)
        {
            if (t < half) partial[t] += partial[t + half];
            Group.Barrier();
        }
        return partial[0];
    }
}
