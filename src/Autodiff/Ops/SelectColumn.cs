using NativeIg.Tensors;

namespace NativeIg.Autodiff;

public sealed partial class Tape
{
    /// <summary>y[n] = x[n, column] from [N, C]; dx is dy in that column, zero elsewhere. IG's target class.</summary>
    public Variable SelectColumn(Variable x, int column, string name = "select")
    {
        var device = DeviceOf(name, x);
        var xs = x.Value;
        if (xs.Rank != 2) throw new ArgumentException($"SelectColumn: input shape {xs.ShapeString} is not [N, C].");
        int n = xs.Dim(0), c = xs.Dim(1);
        if ((uint)column >= (uint)c) throw new ArgumentOutOfRangeException(nameof(column), $"Column {column} is outside [0, {c}) for shape {xs.ShapeString}.");
        var y = Tensor.Uninitialized(device, n);
        if (device is not null) device.Kernels.SelectColumn(xs.DeviceData, y.DeviceData, c, column, scatter: false);
        else for (int i = 0; i < n; i++) y[i] = xs[i * c + column];
        return Record(y, name, [x], () => dy =>
        {
            var (dx, acc) = GradTarget(x);
            if (!acc) dx.Fill(0f);
            if (device is not null) device.Kernels.SelectColumn(dx.DeviceData, dy.DeviceData, c, column, scatter: true);
            else for (int i = 0; i < n; i++) dx[i * c + column] += dy[i];
        }, kind: "select");
    }
}
