using System.Runtime.InteropServices;
using System.Numerics.Tensors;
using NativeIg.Tensors;
using Tensor = NativeIg.Tensors.Tensor;

namespace NativeIg.Ig;

/// <summary>∂F/∂images for a batch of path images where the model is, and F of each (the tutorial's compute_gradients).</summary>
internal delegate (Tensor Gradients, float[] Values) GradientFunction(Tensor images);

/// <summary>
/// Where the tutorial's steps run for one straight path x′ → x: in host memory, or on the model's
/// device. <see cref="IntegratedGradients.AttributeAveraged(Tensor, IReadOnlyList{Tensor}, int?, IgOptions?, CancellationToken)"/> calls the steps in the tutorial's order;
/// a strategy only decides where the tensors live. It is handed the gradient function and knows nothing
/// of the model or of its owner. The running integral Σ_k w_k·∂F/∂x(x′ + α_k(x − x′)) is kept in float64.
/// </summary>
internal abstract class PathIntegral(GradientFunction gradients) : IDisposable
{
    /// <summary>A scope around one chunk's work (the host uses it to reuse the largest chunk's buffers).</summary>
    public virtual IDisposable? BeginChunk(int count) => null;

    /// <summary>Path images [count, H, W, C] = x′ + α_k·(x − x′).</summary>
    public abstract Tensor InterpolateImages(ReadOnlySpan<double> alphas);

    /// <summary>∂F/∂x at each path image, and F there.</summary>
    public (Tensor Gradients, float[] Values) ComputeGradients(Tensor images) => gradients(images);

    /// <summary>integral += Σ_k weight_k·gradients[k].</summary>
    public abstract void IntegralApproximation(Tensor gradients, ReadOnlySpan<double> weights);

    /// <summary>The mean of each path image's gradient (the tutorial's saturation plot).</summary>
    public abstract double[] MeanGradients(Tensor gradients);

    /// <summary>The integral so far, the image's length, in host memory.</summary>
    public abstract double[] Integral();

    public virtual void Dispose() { }
}

/// <summary>The path in host memory: the public static steps of <see cref="IntegratedGradients"/>, as they are.</summary>
internal sealed class HostPathIntegral(Tensor image, Tensor baseline, GradientFunction gradients) : PathIntegral(gradients)
{
    private readonly double[] _integral = new double[image.Length];
    private int _largestChunk;

    /// <summary>A chunk shorter than an earlier one reuses that one's buffers, tensor for tensor (flat peak memory).</summary>
    public override IDisposable BeginChunk(int count)
    {
        _largestChunk = Math.Max(_largestChunk, count);
        return BufferPool.ScaleRequests(_largestChunk, count);
    }

    public override Tensor InterpolateImages(ReadOnlySpan<double> alphas) => IntegratedGradients.InterpolateImages(baseline, image, alphas);

    public override void IntegralApproximation(Tensor gradients, ReadOnlySpan<double> weights) =>
        IntegratedGradients.IntegralApproximation(gradients, weights, _integral);

    public override double[] MeanGradients(Tensor gradients)
    {
        int size = image.Length, count = gradients.Dim(0);
        var g = gradients.Span;
        var means = new double[count];
        for (int j = 0; j < count; j++) means[j] = TensorPrimitives.Sum(g.Slice(j * size, size)) / size;
        return means;
    }

    public override double[] Integral() => _integral;
}

/// <summary>
/// The path on the model's device: the input and baseline go over once, each chunk's path images are
/// interpolated there (src/Gpu/IgPathKernels.cs), and its gradients are summed into a float64 integral
/// there. Per chunk only F and the row sums (a few floats) cross the bus; the integral comes back once.
/// Buffers are sized for the largest chunk up front, so the chunks allocate nothing.
/// </summary>
internal sealed class DevicePathIntegral : PathIntegral
{
    private readonly ComputeDevice _device;
    private readonly int[] _imageShape;
    // All from the device's pool (float64 buffers as float pairs), so repeated calls allocate nothing.
    private readonly DeviceTensor _image, _baseline, _integral, _weights, _alphas, _rowSums;

    public DevicePathIntegral(ComputeDevice device, Tensor image, Tensor baseline, int maxChunk, GradientFunction gradients) : base(gradients)
    {
        _device = device;
        _imageShape = image.Shape.ToArray();
        _image = device.Upload(image);
        _baseline = device.Upload(baseline);
        _integral = device.Allocate(2 * image.Length);
        device.Kernels.Fill(_integral, 0f); // float +0 bits are float64 +0
        _weights = device.Allocate(2 * maxChunk);
        _alphas = device.Allocate(maxChunk);
        _rowSums = device.Allocate(maxChunk);
    }

    public override Tensor InterpolateImages(ReadOnlySpan<double> alphas)
    {
        int count = alphas.Length;
        var alphaValues = new float[count];
        for (int j = 0; j < count; j++) alphaValues[j] = (float)alphas[j];
        using var alphaView = _alphas.Slice([count], 0);
        alphaView.CopyFromHost(alphaValues);
        var path = Tensor.Uninitialized(_device, [count, .. _imageShape]);
        _device.Kernels.Interpolate(_baseline, _image, alphaView, path.DeviceData);
        return path;
    }

    public override void IntegralApproximation(Tensor gradients, ReadOnlySpan<double> weights)
    {
        // float64 weights travel as float pairs (the device contract has float storage only).
        using var weightView = _weights.Slice([2 * weights.Length], 0);
        weightView.CopyFromHost(MemoryMarshal.Cast<double, float>(weights));
        _device.Kernels.AccumulateWeightedRows(gradients.DeviceData, weightView, _integral);
    }

    public override double[] MeanGradients(Tensor gradients)
    {
        int count = gradients.Dim(0), size = _image.Length;
        using var sumView = _rowSums.Slice([count], 0);
        _device.Kernels.RowSums(gradients.DeviceData, sumView);
        var sums = new float[count];
        sumView.CopyToHost(sums); // waits for the device: the gradients go back to the pool after this step
        return sums.Select(v => (double)v / size).ToArray();
    }

    public override double[] Integral()
    {
        var integral = new double[_image.Length];
        _integral.CopyToHost(MemoryMarshal.Cast<double, float>(integral.AsSpan()));
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
