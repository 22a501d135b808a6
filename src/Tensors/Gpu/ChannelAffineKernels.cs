using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Tensors.Gpu;

/// <summary>The per-channel affine map with a channel permutation (Inception's preprocessing), forward and backward.</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int> _channelAffine = null!;
    private Action<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int> _channelAffineBackward = null!;

    private void LoadChannelAffineKernels(Accelerator accelerator)
    {
        _channelAffine = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, int>(ChannelAffineKernel);
        _channelAffineBackward = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int>(ChannelAffineBackwardKernel);
    }

    /// <summary>y[.., c] = scale[c]·x[.., source[c]] + shift[c] (preprocessing); the small tables live in device buffers.</summary>
    public void ChannelAffine(GpuTensor x, GpuTensor y, ArrayView<int> source, ArrayView<float> scale, ArrayView<float> shift) =>
        _channelAffine(y.Length, x.View, y.View, source, scale, shift, (int)source.Length);

    private static void ChannelAffineKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<int> source, ArrayView<float> scale, ArrayView<float> shift, int channels)
    {
        int c = i % channels;
        long pixel = (int)i - c;
        y[i] = scale[c] * x[pixel + source[c]] + shift[c];
    }

    /// <summary>dx[.., source[c]] (+)= scale[c]·dy[.., c], one thread per input element (source is a permutation or not: all matching c are summed).</summary>
    public void ChannelAffineBackward(GpuTensor dy, GpuTensor dx, ArrayView<int> source, ArrayView<float> scale, bool accumulate) =>
        _channelAffineBackward(dx.Length, dy.View, dx.View, source, scale, (int)source.Length, accumulate ? 1 : 0);

    private static void ChannelAffineBackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, ArrayView<int> source, ArrayView<float> scale, int channels, int accumulate)
    {
        int ci = i % channels;
        long pixel = (int)i - ci;
        float g = 0f;
        for (int c = 0; c < channels; c++)
            if (source[c] == ci) g += scale[c] * dy[pixel + c];
        dx[i] = accumulate != 0 ? dx[i] + g : g;
    }
}
