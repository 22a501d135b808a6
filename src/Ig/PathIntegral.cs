using System.Numerics.Tensors;
using ILGPU;
using ILGPU.Runtime;
using NativeIg.Tensors;
using NativeIg.Tensors.Gpu;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>
/// The running integral Σ_k w_k·∂F/∂x(x′ + α_k(x − x′)) along one straight path, fed chunk by chunk.
/// Each chunk reports F and the mean input gradient at its path images (the saturation plots).
/// </summary>
internal abstract class PathIntegral : IDisposable
{
    /// <summary>Adds the chunk's weighted gradients; returns F and the mean gradient of each of its path images.</summary>
    public abstract (float[] Values, double[] RowMeans) Add(ReadOnlySpan<double> alphas, ReadOnlySpan<double> weights);

    /// <summary>The integral so far, the image's length.</summary>
    public abstract double[] Integral();

    public virtual void Dispose() { }
}

/// <summary>The path on the host: path images and gradients in host memory, the sum in float64.</summary>
internal sealed class HostPathIntegral(IntegratedGradients ig, Tensor image, Tensor baseline, int target, TargetOutput output) : PathIntegral
{
    private readonly double[] _integral = new double[image.Length];

    private int _largestChunk;

    public override (float[] Values, double[] RowMeans) Add(ReadOnlySpan<double> alphas, ReadOnlySpan<double> weights)
    {
        int size = image.Length;
        // A chunk shorter than an earlier one reuses that one's buffers, tensor for tensor (flat peak memory).
        _largestChunk = Math.Max(_largestChunk, alphas.Length);
        using var scale = BufferPool.ScaleRequests(_largestChunk, alphas.Length);
        using var path = IntegratedGradients.InterpolateImages(baseline, image, alphas);
        var (gradients, values) = ig.ComputeGradients(path, target, output);
        using (gradients)
        {
            var g = gradients.Span;
            var means = new double[alphas.Length];
            for (int j = 0; j < alphas.Length; j++)
            {
                var row = g.Slice(j * size, size);
                double weight = weights[j];
                for (int i = 0; i < size; i++) _integral[i] += weight * row[i];
                means[j] = TensorPrimitives.Sum(row) / size;
            }
            return (values, means);
        }
    }

    public override double[] Integral() => _integral;
}

/// <summary>
/// The path on the model's device: the input and baseline go over once, each chunk's path images are
/// interpolated there, and its gradients are summed into a float64 integral there. Per chunk only F and
/// the row sums (a few floats) cross the bus; the integral comes back once. Buffers are sized for the
/// largest chunk up front, so the chunks allocate nothing.
/// </summary>
internal sealed class DevicePathIntegral : PathIntegral
{
    private readonly IntegratedGradients _ig;
    private readonly GpuDevice _device;
    private readonly int _target;
    private readonly TargetOutput _output;
    private readonly int[] _imageShape;
    // All from the device's pool (float64 buffers as float pairs), so repeated calls allocate nothing.
    private readonly GpuTensor _image, _baseline, _integral, _weights, _alphas, _rowSums;

    public DevicePathIntegral(IntegratedGradients ig, GpuDevice device, Tensor image, Tensor baseline, int target, TargetOutput output, int maxChunk)
    {
        _ig = ig;
        _device = device;
        _target = target;
        _output = output;
        _imageShape = image.Shape.ToArray();
        _image = device.Upload(image);
        _baseline = device.Upload(baseline);
        _integral = device.Allocate(2 * image.Length);
        device.Kernels.Fill(_integral, 0f); // float +0 bits are float64 +0
        _weights = device.Allocate(2 * maxChunk);
        _alphas = device.Allocate(maxChunk);
        _rowSums = device.Allocate(maxChunk);
    }

    private ArrayView<double> IntegralView => _integral.View.Cast<double>();

    public override (float[] Values, double[] RowMeans) Add(ReadOnlySpan<double> alphas, ReadOnlySpan<double> weights)
    {
        int count = alphas.Length, size = _image.Length;
        var alphaValues = new float[count];
        for (int j = 0; j < count; j++) alphaValues[j] = (float)alphas[j];
        var alphaView = _alphas.View.SubView(0, count);
        var weightView = _weights.View.Cast<double>().SubView(0, count);
        var sumView = _rowSums.View.SubView(0, count);
        alphaView.CopyFromCPU(alphaValues);
        weightView.CopyFromCPU(weights.ToArray());

        var kernels = _device.Kernels;
        using var path = Tensor.Uninitialized(_device, [count, .. _imageShape]);
        kernels.Interpolate(_baseline, _image, alphaView, path.Gpu);
        var (gradients, values) = _ig.GradientsWhereTheModelIs(path, _target, _output);
        using (gradients)
        {
            kernels.AccumulateWeightedRows(gradients.Gpu, weightView, IntegralView);
            kernels.RowSums(gradients.Gpu, sumView);
            var sums = new float[count];
            _device.Synchronize(); // the gradients go back to the pool below, so the kernels reading them must be done
            sumView.CopyToCPU(sums);
            return (values, sums.Select(v => (double)v / size).ToArray());
        }
    }

    public override double[] Integral()
    {
        var integral = new double[_image.Length];
        _device.Synchronize();
        IntegralView.CopyToCPU(integral);
        return integral;
    }

    public override void Dispose()
    {
        _image.Dispose();
        _baseline.Dispose();
        _integral.Dispose();
        _weights.Dispose();
        _alphas.Dispose();
        _rowSums.Dispose();
    }
}
