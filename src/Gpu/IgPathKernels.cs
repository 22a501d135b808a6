using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Integrated Gradients' path kernels (interpolation, the weighted running integral, row sums): the device twins of the host steps in NativeIg.Ig.IntegratedGradients.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int> _interpolate = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, int> _accumulateWeightedRows = null!;
    private Action<KernelConfig, ArrayView<float>, ArrayView<float>, int> _rowSums = null!;

    private void LoadIgPathKernels(Accelerator accelerator)
    {
        _interpolate = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>(InterpolateKernel);
        _accumulateWeightedRows = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>, ArrayView<double>, int>(AccumulateWeightedRowsKernel);
        _rowSums = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int>(RowSumsKernel);
    }

    /// <inheritdoc />
    public override void Interpolate(DeviceTensor baseline, DeviceTensor image, DeviceTensor alphas, DeviceTensor path) =>
        Interpolate(GpuTensor.Of(baseline), GpuTensor.Of(image), GpuTensor.Of(alphas).View, GpuTensor.Of(path));

    /// <inheritdoc />
    public override void AccumulateWeightedRows(DeviceTensor rows, DeviceTensor weights, DeviceTensor sum) =>
        AccumulateWeightedRows(GpuTensor.Of(rows), GpuTensor.Of(weights).View.Cast<double>(), GpuTensor.Of(sum).View.Cast<double>());

    /// <inheritdoc />
    public override void RowSums(DeviceTensor rows, DeviceTensor sums) => RowSums(GpuTensor.Of(rows), GpuTensor.Of(sums).View);

    /// <summary>
    /// path[r] = x′ + α_r·(x − x′) for r &lt; alphas.Length; α = 0 and α = 1 give x′ and x exactly, so F
    /// at those path images is F(x′) and F(x) (float rounding could otherwise move the endpoints).
    /// </summary>
    internal void Interpolate(DeviceTensor baseline, DeviceTensor image, ArrayView<float> alphas, DeviceTensor path)
    {
        if (baseline.Length != image.Length || path.Length != alphas.Length * image.Length)
            throw new ArgumentException($"GPU interpolate: baseline {baseline.ShapeString}, image {image.ShapeString} and path {path.ShapeString} for {alphas.Length} alphas do not fit.");
        _interpolate(path.Length, baseline.View, image.View, alphas, path.View, image.Length);
    }

    private static void InterpolateKernel(Index1D i, ArrayView<float> baseline, ArrayView<float> image, ArrayView<float> alphas, ArrayView<float> path, int size)
    {
        int r = i / size, j = i - r * size;
        float alpha = alphas[r], v;
        if (alpha == 0f) v = baseline[j];
        else if (alpha == 1f) v = image[j];
        else v = baseline[j] + alpha * (image[j] - baseline[j]);
        path[i] = v;
    }

    /// <summary>sum[j] += Σ_r weights[r]·rows[r, j] in float64 (IG's Riemann/trapezoid sum over one chunk of the path).</summary>
    internal void AccumulateWeightedRows(DeviceTensor rows, ArrayView<double> weights, ArrayView<double> sum)
    {
        if (rows.Length != weights.Length * sum.Length)
            throw new ArgumentException($"GPU weighted rows: {rows.ShapeString} is not {weights.Length} rows of {sum.Length}.");
        _accumulateWeightedRows((int)sum.Length, rows.View, weights, sum, (int)weights.Length);
    }

    private static void AccumulateWeightedRowsKernel(Index1D j, ArrayView<float> rows, ArrayView<double> weights, ArrayView<double> sum, int count)
    {
        long size = sum.Length;
        double s = sum[j];
        for (int r = 0; r < count; r++) s += weights[r] * rows[r * size + j];
        sum[j] = s;
    }

    /// <summary>sums[r] = Σ_j rows[r, j], one group per row.</summary>
    internal void RowSums(DeviceTensor rows, ArrayView<float> sums)
    {
        if (rows.Length % sums.Length != 0)
            throw new ArgumentException($"GPU row sums: {rows.ShapeString} is not {sums.Length} rows.");
        _rowSums(new KernelConfig((int)sums.Length, SumGroup), rows.View, sums, rows.Length / (int)sums.Length);
    }

    private static void RowSumsKernel(ArrayView<float> rows, ArrayView<float> sums, int size)
    {
        long start = (long)Grid.IdxX * size;
        float s = 0f;
        for (int j = Group.IdxX; j < size; j += SumGroup) s += rows[start + j];
        float total = GroupSum(s);
        if (Group.IdxX == 0) sums[Grid.IdxX] = total;
    }
}
