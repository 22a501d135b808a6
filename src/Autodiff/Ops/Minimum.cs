using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>
    /// y = min(x, c), the TensorFlow tutorial's saturating function; dx = dy where x ≤ c (TensorFlow's tie
    /// rule). docs/backprop.md starts from this op.
    /// </summary>
    public Variable Minimum(Variable x, float c, string name = "minimum")
    {
        var device = DeviceOf(name, x);
        var y = Tensor.Uninitialized(device, x.Value.Shape.ToArray());
        if (device is null) TensorPrimitives.Min(x.Value.Span, c, y.Span);
        else device.Kernels.Minimum(x.Value.DeviceData, y.DeviceData, c);
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (device is not null) { device.Kernels.MinimumBackward(x.Value.DeviceData, dy.DeviceData, dx.DeviceData, c, acc); return; }
            var xs = x.Value.Span; var g = dy.Span; var d = dx.Span;
            for (int i = 0; i < xs.Length; i++)
            {
                float v = xs[i] <= c ? g[i] : 0f;   // the local derivative is 1 below c and 0 above
                d[i] = acc ? d[i] + v : v;          // add when another op already wrote into dx
            }
        }, saves: [x], kind: "minimum");
    }
}
