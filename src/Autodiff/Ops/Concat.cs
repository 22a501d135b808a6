using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// Concatenation along channels: parts [N, H, W, C_i] → [N, H, W, ΣC_i]. Backward slices dy back out
    /// into each part that wants a gradient. Kernels: <see cref="ChannelConcat"/>, src/Gpu/ChannelConcatKernels.cs.
    /// </summary>
    public Variable Concat(string name, params Variable[] parts)
    {
        if (parts.Length == 0) throw new ArgumentException("Concat needs at least one part.");
        var device = DeviceOf(name, parts[0], parts);
        var shape = parts[0].Value.Shape.ToArray();
        shape[^1] = parts.Sum(p => p.Value.Dim(p.Value.Rank - 1));
        var y = Tensor.Uninitialized(device, shape);
        try
        {
            if (device is null) ChannelConcat.Forward(parts.Select(p => p.Value).ToArray(), y);
            else device.Kernels.ConcatForward(parts.Select(p => p.Value.DeviceData).ToArray(), y.DeviceData);
        }
        catch { y.Dispose(); throw; }
        return Record(y, name, parts, () => dy =>
        {
            int offset = 0;
            foreach (var part in parts)
            {
                if (part.RequiresGrad)
                {
                    var (dp, acc) = GradTarget(part);
                    if (device is null) ChannelConcat.BackwardPart(dy, offset, dp, acc);
                    else device.Kernels.ConcatBackward(dy.DeviceData, offset, dp.DeviceData, acc);
                }
                offset += part.Value.Dim(part.Value.Rank - 1);
            }
        }, kind: "concat");
    }
}
