using ILGPU;
using ILGPU.Runtime;

namespace NativeIg.Gpu;

/// <summary>Channel concatenation and its gradient (slicing the channels back out).</summary>
public sealed partial class GpuKernels
{
    // Compiled once per device by the Load method below, which the constructor calls.
    private Action<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int> _copyChannels = null!;

    private void LoadChannelConcatKernels(Accelerator accelerator)
    {
        _copyChannels = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>(CopyChannelsKernel);
    }

    /// <summary>Channel concatenation: copies part [.., C_part] into y at channel offset; backward copies it back out.</summary>
    public override void ConcatForward(IReadOnlyList<DeviceTensor> parts, DeviceTensor y)
    {
        int total = y.Dim(y.Shape.Length - 1), offset = 0;
        foreach (var part in parts)
        {
            int c = part.Dim(part.Shape.Length - 1);
            _copyChannels(part.Length, part.View, y.View, c, total, offset, 1);
            offset += c;
        }
    }

    /// <summary>dPart (+)= dy[..., offset : offset + C_part]: one part's share of the concat gradient.</summary>
    public override void ConcatBackward(DeviceTensor dy, int channelOffset, DeviceTensor dPart, bool accumulate = false) =>
        _copyChannels(dPart.Length, dy.View, dPart.View, dPart.Dim(dPart.Shape.Length - 1), dy.Dim(dy.Shape.Length - 1), channelOffset, accumulate ? 2 : 0);

    /// <summary>mode 1: wide[px, offset + ch] = narrow[px, ch]; mode 0: the reverse; mode 2: the reverse, added.</summary>
    private static void CopyChannelsKernel(Index1D i, ArrayView<float> from, ArrayView<float> to, int narrow, int wide, int offset, int mode)
    {
        int ch = i % narrow;
        long px = i / narrow;
        if (mode == 1) to[px * wide + offset + ch] = from[i];
        else if (mode == 2) to[i] += from[px * wide + offset + ch];
        else to[i] = from[px * wide + offset + ch];
    }
}
