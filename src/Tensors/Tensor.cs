using System.Runtime.CompilerServices;

namespace NativeIg.Tensors;

/// <summary>
/// A contiguous float32 tensor of rank 1 to 4. Images and activations are NHWC (channels innermost),
/// convolution filters HWIO ([KH, KW, CI, CO]: the filter is then a plain [K, CO] GEMM operand),
/// fully-connected weights [in, out].
/// </summary>
/// <remarks>
/// Storage is a pinned float array whose data start is 64-byte aligned; owned storage comes from
/// <see cref="BufferPool"/> and returns there on <see cref="Dispose"/>, so repeated work of the same
/// shapes (chunks of an IG path) does not allocate. Views (<see cref="SliceBatch"/>, <see cref="Reshape"/>)
/// share storage and never return it. A tensor may instead live on a <see cref="ComputeDevice"/>
/// (<see cref="Device"/> is then not null, <see cref="Span"/> refuses, and moving it is explicit:
/// <see cref="To"/>, <see cref="ToHost"/>).
/// </remarks>
public sealed partial class Tensor : IDisposable
{
    private readonly int[] _shape;
    private float[]? _buffer;
    private DeviceTensor? _gpu;
    private readonly int _offset;
    private readonly bool _ownsBuffer;

    /// <summary>The number of elements.</summary>
    public int Length { get; }
    /// <summary>The number of dimensions (1 to 4).</summary>
    public int Rank => _shape.Length;
    /// <summary>The dimensions, outermost first.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    private Tensor(int[] shape, float[] buffer, int offset, bool ownsBuffer)
    {
        _shape = shape;
        _buffer = buffer;
        _offset = offset;
        _ownsBuffer = ownsBuffer;
        Length = ElementCount(shape);
    }

    private Tensor(int[] shape, DeviceTensor gpu)
    {
        _shape = shape;
        _buffer = null;
        _gpu = gpu;
        Length = ElementCount(shape);
    }

    /// <summary>The device holding this tensor, or null for host memory.</summary>
    public ComputeDevice? Device => _gpu?.Device;

    /// <summary>The device storage (only for tensors on a device).</summary>
    public DeviceTensor DeviceData => _gpu ?? throw new InvalidOperationException($"Tensor{ShapeString} is in host memory, not on a device.");

    /// <summary>A tensor with undefined contents on <paramref name="device"/> (host memory when null).</summary>
    public static Tensor Uninitialized(ComputeDevice? device, params int[] shape)
    {
        if (device is null) return Uninitialized(shape);
        ValidateShape(shape);
        return new Tensor((int[])shape.Clone(), device.Allocate(shape));
    }

    /// <summary>Wraps device storage as a tensor (which then owns it).</summary>
    public static Tensor OnDevice(DeviceTensor storage) => new(storage.Shape.ToArray(), storage);

    /// <summary>A copy on <paramref name="device"/> (host memory when null).</summary>
    public Tensor To(ComputeDevice? device)
    {
        if (device is null) return ToHost();
        if (_gpu is not null && ReferenceEquals(_gpu.Device, device)) return Clone();
        using var host = _gpu is null ? null : _gpu.ToHost();
        return new Tensor((int[])_shape.Clone(), device.Upload(host ?? this));
    }

    /// <summary>A copy in host memory (waits for the device when the tensor is on one).</summary>
    public Tensor ToHost() => _gpu is null ? Clone() : _gpu.ToHost();

    /// <summary>A tensor with undefined contents, from the pool.</summary>
    public static Tensor Uninitialized(params int[] shape)
    {
        ValidateShape(shape);
        var (buffer, offset) = BufferPool.Shared.Rent(ElementCount(shape));
        return new Tensor((int[])shape.Clone(), buffer, offset, ownsBuffer: true);
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape)
    {
        var t = Uninitialized(shape);
        t.Span.Clear();
        return t;
    }

    /// <summary>A tensor with every element set to <paramref name="value"/>.</summary>
    public static Tensor Filled(float value, params int[] shape)
    {
        var t = Uninitialized(shape);
        t.Span.Fill(value);
        return t;
    }

    /// <summary>Copies <paramref name="data"/> into a new tensor of the given shape.</summary>
    public static Tensor FromSpan(ReadOnlySpan<float> data, params int[] shape)
    {
        ValidateShape(shape);
        if (data.Length != ElementCount(shape))
            throw new ArgumentException($"Data holds {data.Length} values but shape {Describe(shape)} needs {ElementCount(shape)}.", nameof(data));
        var t = Uninitialized(shape);
        data.CopyTo(t.Span);
        return t;
    }

    /// <summary>The elements in host memory (a device tensor refuses: copy it with <see cref="ToHost"/> first).</summary>
    public Span<float> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Buffer.AsSpan(_offset, Length);
    }

    /// <summary>The pooled array that holds the elements from <see cref="Offset"/> on (for kernels that need the array itself).</summary>
    public float[] Buffer => _buffer ?? throw (_gpu is not null
        ? new InvalidOperationException($"Tensor{ShapeString} lives on {_gpu.Device.Kind}; copy it to host memory with ToHost() first.")
        : new ObjectDisposedException(nameof(Tensor), "The tensor's storage was returned to the pool."));
    /// <summary>Where this tensor's elements start in <see cref="Buffer"/>.</summary>
    public int Offset => _offset;
    /// <summary>Whether the storage has been given back.</summary>
    public bool IsDisposed => _buffer is null && _gpu is null;

    /// <summary>One dimension.</summary>
    public int Dim(int axis) => _shape[axis];

    /// <summary>N of an NHWC tensor (or rows of a matrix).</summary>
    public int N => _shape[0];

    /// <summary>One element by flat index (host memory).</summary>
    public float this[int i]
    {
        get => Span[i];
        set => Span[i] = value;
    }

    /// <summary>A view of images [start, start+count) along axis 0; shares storage.</summary>
    public Tensor SliceBatch(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Batch slice [{start}, {start + count}) is outside a tensor of shape {ShapeString}.");
        int inner = Length / Math.Max(_shape[0], 1);
        var shape = (int[])_shape.Clone();
        shape[0] = count;
        if (_gpu is not null) return new Tensor(shape, _gpu.Slice(shape, (long)start * inner));
        return new Tensor(shape, Buffer, _offset + start * inner, ownsBuffer: false);
    }

    /// <summary>A view with another shape of the same element count.</summary>
    public Tensor Reshape(params int[] shape)
    {
        ValidateShape(shape);
        if (ElementCount(shape) != Length)
            throw new ArgumentException($"Cannot reshape {ShapeString} ({Length} values) to {Describe(shape)} ({ElementCount(shape)} values).", nameof(shape));
        if (_gpu is not null) return new Tensor((int[])shape.Clone(), _gpu.Reshape(shape));
        return new Tensor((int[])shape.Clone(), Buffer, _offset, ownsBuffer: false);
    }

    /// <summary>A copy with its own storage, on the same device.</summary>
    public Tensor Clone()
    {
        if (_gpu is not null)
        {
            var copy = Uninitialized(_gpu.Device, _shape);
            _gpu.CopyTo(copy._gpu!);
            return copy;
        }
        var t = Uninitialized(_shape);
        Span.CopyTo(t.Span);
        return t;
    }

    /// <summary>The elements as a new array (host memory).</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>Whether both tensors have the same shape.</summary>
    public bool SameShape(Tensor other) => _shape.AsSpan().SequenceEqual(other._shape);

    /// <summary>The shape as <c>[a, b, c]</c>, for messages.</summary>
    public string ShapeString => Describe(_shape);

    /// <summary>A shape as <c>[a, b, c]</c>.</summary>
    public static string Describe(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <inheritdoc />
    public override string ToString() => $"Tensor{ShapeString}";

    /// <summary>Gives owned storage back to its pool (host or device); views give nothing back. Safe to call twice.</summary>
    public void Dispose()
    {
        var gpu = _gpu;
        if (gpu is not null)
        {
            _gpu = null;
            gpu.Dispose(); // views own nothing, so this only returns storage for the owner
            return;
        }
        var buffer = _buffer;
        if (buffer is null) return;
        _buffer = null;
        if (_ownsBuffer) BufferPool.Shared.Return(buffer);
    }

    /// <summary>The element count of a shape; an <see cref="ArgumentException"/> above <see cref="int.MaxValue"/>.</summary>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"Shape {Describe(shape)} has more than {int.MaxValue} elements.");
        return (int)n;
    }

    private static void ValidateShape(int[] shape)
    {
        if (shape.Length is < 1 or > 4)
            throw new ArgumentException($"Tensors have rank 1 to 4; got shape {Describe(shape)}.", nameof(shape));
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"Negative dimension in shape {Describe(shape)}.", nameof(shape));
        if (AllocationBudget.Active) AllocationBudget.Charge(shape);
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming both shapes unless they are equal.</summary>
    public static void RequireSameShape(Tensor a, Tensor b, string what)
    {
        if (!a.SameShape(b))
            throw new ArgumentException($"{what}: shapes differ, {a.ShapeString} vs {b.ShapeString}.");
    }
}
