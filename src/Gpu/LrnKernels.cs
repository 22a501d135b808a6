using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Cross-channel LRN, forward and backward, one thread per element.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, LrnParameters, int> _lrn = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, LrnParameters, int, int> _lrnBackward = null!;

    private void LoadLrnKernels(Accelerator accelerator)
    {
        _lrn = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, LrnParameters, int>(LrnKernel);
        _lrnBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, LrnParameters, int, int>(LrnBackwardKernel);
    }

    /// <inheritdoc />
    public override void LrnForward(LrnParameters p, DeviceTensor x, DeviceTensor y) => _lrn(x.Length, x.View, y.View, p, x.Dim(x.Shape.Length - 1));

    private static float LrnScale(ArrayView<float> x, LrnParameters p, long pixelBase, int c, int channels)
    {
        float sum = 0f;
        for (int j = c - p.Before; j <= c + p.After; j++)
            if (j >= 0 && j < channels) sum += x[pixelBase + j] * x[pixelBase + j];
        return p.K + p.Alpha / p.Size * sum;
    }

    private static void LrnKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, LrnParameters p, int channels)
    {
        int c = i % channels;
        long pixelBase = (int)i - c;
        y[i] = x[i] * XMath.Pow(LrnScale(x, p, pixelBase, c, channels), -p.Beta);
    }

    /// <inheritdoc />
    public override void LrnBackward(LrnParameters p, DeviceTensor x, DeviceTensor dy, DeviceTensor dx, bool accumulate = false) =>
        _lrnBackward(x.Length, x.View, dy.View, dx.View, p, x.Dim(x.Shape.Length - 1), accumulate ? 1 : 0);

    private static void LrnBackwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, LrnParameters p, int channels, int accumulate)
    {
        int c = i % channels;
        long pixelBase = (int)i - c;
        float s = LrnScale(x, p, pixelBase, c, channels);
        float grad = dy[i] * XMath.Pow(s, -p.Beta);
        // outputs o whose window holds c: c ∈ [o − before, o + after]
        float window = 0f;
        for (int o = c - p.After; o <= c + p.Before; o++)
        {
            if (o < 0 || o >= channels) continue;
            float so = LrnScale(x, p, pixelBase, o, channels);
            window += dy[pixelBase + o] * x[pixelBase + o] * XMath.Pow(so, -p.Beta - 1f);
        }
        grad -= 2f * p.Alpha * p.Beta / p.Size * x[i] * window;
        dx[i] = accumulate != 0 ? dx[i] + grad : grad;
    }
}
