using System.Numerics.Tensors;

namespace NativeIg.Tensors;

/// <summary>
/// Element-wise primitives that run where the tensors are: in host memory through TensorPrimitives,
/// on a device through its kernels. The tape's chain rules use them, so an op that only adds, copies,
/// scales or fills needs no device branch. <c>accumulate</c> means "add to what the destination holds"
/// (a gradient's second and later contributions), as in every backward kernel.
/// </summary>
public sealed partial class Tensor
{
    /// <summary>destination (+)= scale·source; with scale 1 and no accumulate, a copy. Same lengths, same device.</summary>
    public static void ScaleInto(Tensor destination, Tensor source, float scale = 1f, bool accumulate = false)
    {
        RequireSameLengthAndDevice(destination, source, "ScaleInto");
        if (destination.Device is { } device)
        {
            using var flat = source.DeviceData.Reshape(destination.Shape.ToArray());
            device.Kernels.Axpby(flat, destination.DeviceData, destination.DeviceData, scale, accumulate ? 1f : 0f);
            return;
        }
        var d = destination.Span;
        if (accumulate)
        {
            if (scale == 1f) TensorPrimitives.Add(d, source.Span, d);
            else TensorPrimitives.MultiplyAdd(source.Span, scale, d, d);
        }
        else if (scale == 1f) source.Span.CopyTo(d);
        else TensorPrimitives.Multiply(source.Span, scale, d);
    }

    /// <summary>destination (+)= a ⊙ b. Same lengths, same device.</summary>
    public static void MultiplyInto(Tensor destination, Tensor a, Tensor b, bool accumulate = false)
    {
        RequireSameLengthAndDevice(destination, a, "MultiplyInto");
        RequireSameLengthAndDevice(destination, b, "MultiplyInto");
        if (destination.Device is { } device)
        {
            device.Kernels.Multiply(a.DeviceData, b.DeviceData, destination.DeviceData, accumulate);
            return;
        }
        var d = destination.Span;
        if (accumulate) TensorPrimitives.MultiplyAdd(a.Span, b.Span, d, d);
        else TensorPrimitives.Multiply(a.Span, b.Span, d);
    }

    /// <summary>Every element (+)= <paramref name="value"/>.</summary>
    public void Fill(float value, bool accumulate = false)
    {
        if (Device is { } device) { device.Kernels.Fill(DeviceData, value, accumulate); return; }
        if (accumulate) TensorPrimitives.Add(Span, value, Span);
        else Span.Fill(value);
    }

    /// <summary>result[0] = Σ source (result has one element, on the same device).</summary>
    public static void SumInto(Tensor result, Tensor source)
    {
        if (result.Length != 1) throw new ArgumentException($"SumInto: the result has shape {result.ShapeString}, not one element.");
        if (!ReferenceEquals(result.Device, source.Device)) throw new ArgumentException("SumInto: the result and the source are on different devices.");
        if (result.Device is { } device) device.Kernels.Sum(source.DeviceData, result.DeviceData);
        else result.Span[0] = TensorPrimitives.Sum(source.Span);
    }

    /// <summary>sums[c] (+)= Σ_r rows[r, c] over a [rows, C] view of <paramref name="rows"/> (bias gradients); C is sums' length.</summary>
    public static void ColumnSumsInto(Tensor sums, Tensor rows, bool accumulate = false)
    {
        int c = sums.Length;
        if (rows.Length % c != 0) throw new ArgumentException($"ColumnSumsInto: {rows.ShapeString} is not a whole number of rows of {c}.");
        if (!ReferenceEquals(sums.Device, rows.Device)) throw new ArgumentException("ColumnSumsInto: the sums and the rows are on different devices.");
        if (sums.Device is { } device) { device.Kernels.ColumnSums(rows.DeviceData, sums.DeviceData, accumulate); return; }
        var s = sums.Span;
        if (!accumulate) s.Clear();
        var d = rows.Span;
        for (int r = 0; r < rows.Length / c; r++) TensorPrimitives.Add(s, d.Slice(r * c, c), s);
    }

    /// <summary>The first element as a host float (waits for the device; for scalar seeds and results).</summary>
    public float ScalarValue()
    {
        if (Device is null) return Span[0];
        using var host = ToHost();
        return host.Span[0];
    }

    private static void RequireSameLengthAndDevice(Tensor destination, Tensor source, string op)
    {
        if (destination.Length != source.Length)
            throw new ArgumentException($"{op}: shapes {destination.ShapeString} and {source.ShapeString} hold different numbers of values.");
        if (!ReferenceEquals(destination.Device, source.Device))
            throw new ArgumentException($"{op}: {destination} and {source} are on different devices; move one with To(...).");
    }
}
