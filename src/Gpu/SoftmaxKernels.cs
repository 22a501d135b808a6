using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Softmax and log-softmax over the last axis, one thread per row, forward and backward.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _softmax = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _softmaxBackward = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int> _logSoftmax = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int> _logSoftmaxBackward = null!;

    private void LoadSoftmaxKernels(Accelerator accelerator)
    {
        _softmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxKernel);
        _softmaxBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(SoftmaxBackwardKernel);
        _logSoftmax = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int>(LogSoftmaxKernel);
        _logSoftmaxBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>(LogSoftmaxBackwardKernel);
    }

    /// <summary>Stable softmax over the last axis, one thread per row.</summary>
    public override void Softmax(DeviceTensor x, DeviceTensor y, int classes) => _softmax(x.Length / classes, x.View, y.View, classes, 0);

    private static void SoftmaxKernel(Index1D row, ArrayView<float> x, ArrayView<float> y, int classes, int unused)
    {
        long b = (long)(int)row * classes;
        float max = float.NegativeInfinity;
        for (int i = 0; i < classes; i++) max = XMath.Max(max, x[b + i]);
        float sum = 0f;
        for (int i = 0; i < classes; i++) { float e = XMath.Exp(x[b + i] - max); y[b + i] = e; sum += e; }
        for (int i = 0; i < classes; i++) y[b + i] /= sum;
    }

    /// <inheritdoc />
    public override void SoftmaxBackward(DeviceTensor y, DeviceTensor dy, DeviceTensor dx, int classes, bool accumulate = false) => _softmaxBackward(y.Length / classes, y.View, dy.View, dx.View, classes, accumulate ? 1 : 0);

    private static void SoftmaxBackwardKernel(Index1D row, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int classes, int accumulate)
    {
        long b = (long)(int)row * classes;
        float dot = 0f;
        for (int i = 0; i < classes; i++) dot += dy[b + i] * y[b + i];
        for (int i = 0; i < classes; i++)
        {
            float v = y[b + i] * (dy[b + i] - dot);
            dx[b + i] = accumulate != 0 ? dx[b + i] + v : v;
        }
    }



    /// <inheritdoc />
    public override void LogSoftmax(DeviceTensor x, DeviceTensor y, int classes) => _logSoftmax(x.Length / classes, x.View, y.View, classes, 0);

    private static void LogSoftmaxKernel(Index1D row, ArrayView<float> x, ArrayView<float> y, int classes, int unused)
    {
        long b = (long)(int)row * classes;
        float max = float.NegativeInfinity;
        for (int i = 0; i < classes; i++) max = XMath.Max(max, x[b + i]);
        float sum = 0f;
        for (int i = 0; i < classes; i++) sum += XMath.Exp(x[b + i] - max);
        float logSum = XMath.Log(sum);
        for (int i = 0; i < classes; i++) y[b + i] = x[b + i] - max - logSum;
    }

    /// <inheritdoc />
    public override void LogSoftmaxBackward(DeviceTensor y, DeviceTensor dy, DeviceTensor dx, int classes, bool accumulate = false) => _logSoftmaxBackward(y.Length / classes, y.View, dy.View, dx.View, classes, accumulate ? 1 : 0);

    private static void LogSoftmaxBackwardKernel(Index1D row, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int classes, int accumulate)
    {
        long b = (long)(int)row * classes;
        float sum = 0f;
        for (int i = 0; i < classes; i++) sum += dy[b + i];
        for (int i = 0; i < classes; i++)
        {
            float v = dy[b + i] - XMath.Exp(y[b + i]) * sum;
            dx[b + i] = accumulate != 0 ? dx[b + i] + v : v;
        }
    }
}
