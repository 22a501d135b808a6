using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>The same values in another shape (a copy, so the tape can free each independently); dx = dy reshaped.</summary>
    public Variable Reshape(Variable x, int[] shape, string name = "reshape")
    {
        DeviceOf(name, x);
        using var view = x.Value.Reshape(shape);
        var y = view.Clone();
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            Tensor.ScaleInto(dx, dy, accumulate: acc);
        }, kind: "reshape");
    }
}
