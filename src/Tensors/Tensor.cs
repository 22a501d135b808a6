using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using NativeIg.Tensors.Gpu;

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
/// share storage and never return it. A tensor may instead live on a <see cref="GpuDevice"/>
/// (<see cref="Device"/> is then not null, <see cref="Span"/> refuses, and moving it is explicit:
/// <see cref="To"/>, <see cref="ToHost"/>).
/// </remarks>
public sealed class Tensor : IDisposable
{
    private readonly int[] _shape;
    private float[]? _buffer;
    private GpuTensor? _gpu;
    private readonly int _offset;
    private readonly bool _ownsBuffer;

    public int Length { get; }
    public int Rank => _shape.Length;
    public ReadOnlySpan<int> Shape => _shape;

    private Tensor(int[] shape, float[] buffer, int offset, bool ownsBuffer)
    {
        _shape = shape;
        _buffer = buffer;
        _offset = offset;
        _ownsBuffer = ownsBuffer;
        Length = ElementCount(shape);
    }

    private Tensor(int[] shape, GpuTensor gpu)
    {
        _shape = shape;
        _buffer = null;
        _gpu = gpu;
        Length = ElementCount(shape);
    }

    /// <summary>The device holding this tensor, or null for host memory.</summary>
    public GpuDevice? Device => _gpu?.Device;

    /// <summary>The device storage (only for tensors on a device).</summary>
    public GpuTensor Gpu => _gpu ?? throw new InvalidOperationException($"Tensor{ShapeString} is in host memory, not on a device.");

    /// <summary>A tensor with undefined contents on <paramref name="device"/> (host memory when null).</summary>
    public static Tensor Uninitialized(GpuDevice? device, params int[] shape)
    {
        if (device is null) return Uninitialized(shape);
        ValidateShape(shape);
        return new Tensor((int[])shape.Clone(), device.Allocate(shape));
    }

    /// <summary>Wraps device storage as a tensor (which then owns it).</summary>
    public static Tensor OnDevice(GpuTensor storage) => new(storage.Shape.ToArray(), storage);

    /// <summary>A copy on <paramref name="device"/> (host memory when null).</summary>
    public Tensor To(GpuDevice? device)
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

    public static Tensor Zeros(params int[] shape)
    {
        var t = Uninitialized(shape);
        t.Span.Clear();
        return t;
    }

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

    public Span<float> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Buffer.AsSpan(_offset, Length);
    }

    public float[] Buffer => _buffer ?? throw (_gpu is not null
        ? new InvalidOperationException($"Tensor{ShapeString} lives on {_gpu.Device.Kind}; copy it to host memory with ToHost() first.")
        : new ObjectDisposedException(nameof(Tensor), "The tensor's storage was returned to the pool."));
    public int Offset => _offset;
    public bool IsDisposed => _buffer is null && _gpu is null;

    public int Dim(int axis) => _shape[axis];

    /// <summary>N of an NHWC tensor (or rows of a matrix).</summary>
    public int N => _shape[0];

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

    public Tensor Clone()
    {
        if (_gpu is not null)
        {
            var copy = Uninitialized(_gpu.Device, _shape);
            _gpu.View.CopyTo(copy.Gpu.View);
            return copy;
        }
        var t = Uninitialized(_shape);
        Span.CopyTo(t.Span);
        return t;
    }

    public float[] ToArray() => Span.ToArray();

    public bool SameShape(Tensor other) => _shape.AsSpan().SequenceEqual(other._shape);

    public string ShapeString => Describe(_shape);

    public static string Describe(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    public override string ToString() => $"Tensor{ShapeString}";

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
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming both shapes unless they are equal.</summary>
    public static void RequireSameShape(Tensor a, Tensor b, string what)
    {
        if (!a.SameShape(b))
            throw new ArgumentException($"{what}: shapes differ, {a.ShapeString} vs {b.ShapeString}.");
    }
}

/// <summary>
/// Pinned, 64-byte-aligned float arrays reused by size class (2^k·{1, 1.25, 1.5, 1.75}: at most 25%
/// slack), so the chunks of an IG path, whose batch sizes differ, reuse each other's buffers.
/// Fresh memory is expensive (page faults on first touch), reuse is free.
/// </summary>
public sealed class BufferPool
{
    public static BufferPool Shared { get; } = new();

    private const int AlignFloats = 16; // 64 bytes
    private readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> _free = new();
    private long _pooledBytes;

    /// <summary>Returned buffers beyond this many pooled bytes are dropped rather than kept.</summary>
    public long MaxPooledBytes { get; set; } = 3L << 29;

    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    private long _liveBytes, _peakLiveBytes;

    /// <summary>Bytes rented and not yet returned: the tensors alive now.</summary>
    public long LiveBytes => Interlocked.Read(ref _liveBytes);

    /// <summary>The most <see cref="LiveBytes"/> since the last <see cref="ResetPeak"/>: a workload's peak tensor memory.</summary>
    public long PeakLiveBytes => Interlocked.Read(ref _peakLiveBytes);

    public void ResetPeak() => Interlocked.Exchange(ref _peakLiveBytes, LiveBytes);

    private static readonly AsyncLocal<(int Full, int Part)> s_batchScale = new();

    /// <summary>
    /// While the returned scope is open, rents first look for the buffer a request
    /// <paramref name="full"/>/<paramref name="part"/> times larger would get: a batch of k images run
    /// after batches of B (full = B, part = k) then takes, tensor by tensor, the buffers the full batches used, instead of
    /// allocating smaller ones or taking ones a later tensor of the same batch needs. Flows into the
    /// worker threads of the parallel kernels with the execution context.
    /// </summary>
    public static IDisposable ScaleRequests(int full, int part)
    {
        var previous = s_batchScale.Value;
        s_batchScale.Value = full > part && part > 0 ? (full, part) : default;
        return new Restore(previous);
    }

    /// <summary>The size class a request of <paramref name="length"/> would have in the larger batch of an open <see cref="ScaleRequests"/>, if any.</summary>
    internal static int? ScaledClass(int length)
    {
        var (full, part) = s_batchScale.Value;
        if (part == 0 || length <= 64) return null;
        // Integer arithmetic: a tensor of k images scales to exactly the B-image tensor's length.
        long scaled = ((long)length * full + part - 1) / part;
        return scaled > int.MaxValue - AlignFloats ? null : SizeClass((int)scaled);
    }

    /// <summary>How many size classes, from the requested one up, an idle buffer may come from: the next four (≤ 2×) inside a <see cref="ScaleRequests"/> scope, else the exact class only.</summary>
    internal static int ClassesToSearch => s_batchScale.Value.Part == 0 ? 1 : 5;

    private sealed class Restore((int, int) previous) : IDisposable
    {
        public void Dispose() => s_batchScale.Value = previous;
    }

    /// <summary>A buffer with room for <paramref name="length"/> floats from a 64-byte-aligned offset.</summary>
    public (float[] Buffer, int Offset) Rent(int length)
    {
        int capacity = SizeClass(length);
        if ((ScaledClass(length) is int scaled && _free.TryGetValue(scaled, out var bag) && bag.TryTake(out var buffer)) || TryTakePooled(capacity, out buffer))
            Interlocked.Add(ref _pooledBytes, -(long)buffer.Length * sizeof(float));
        else
            buffer = GC.AllocateUninitializedArray<float>(capacity + AlignFloats, pinned: true);
        long live = Interlocked.Add(ref _liveBytes, (long)buffer.Length * sizeof(float));
        long peak;
        while (live > (peak = Interlocked.Read(ref _peakLiveBytes)) && Interlocked.CompareExchange(ref _peakLiveBytes, live, peak) != peak) { }
        return (buffer, AlignedOffset(buffer));
    }

    /// <summary>
    /// An idle buffer of this size class or, inside <see cref="ScaleRequests"/> (a smaller batch after
    /// larger ones), of one of the next four classes (at most 2× the size), so the smaller batch reuses
    /// memory instead of allocating more. Outside such a scope only the exact class is taken: repeated
    /// identical work then reuses exactly its own buffers and the pool cannot drift into holding more.
    /// </summary>
    private bool TryTakePooled(int capacity, out float[] buffer)
    {
        for (int step = 0, c = capacity, classes = ClassesToSearch; step < classes && c > 0; step++, c = SizeClass(c + 1))
        {
            if (_free.TryGetValue(c, out var bag) && bag.TryTake(out buffer!)) return true;
            if (c <= 64) break; // small sizes are exact: no neighbours worth taking
        }
        buffer = null!;
        return false;
    }

    public void Return(float[] buffer)
    {
        int capacity = buffer.Length - AlignFloats;
        if (capacity != SizeClass(capacity)) return; // not one of ours
        Interlocked.Add(ref _liveBytes, -(long)buffer.Length * sizeof(float));
        if (PooledBytes + (long)buffer.Length * sizeof(float) > MaxPooledBytes) return;
        Interlocked.Add(ref _pooledBytes, (long)buffer.Length * sizeof(float));
        _free.GetOrAdd(capacity, _ => new ConcurrentBag<float[]>()).Add(buffer);
    }

    /// <summary>Drops every pooled buffer (memory goes back to the GC).</summary>
    public void Clear()
    {
        _free.Clear();
        Interlocked.Exchange(ref _pooledBytes, 0);
    }

    /// <summary>The smallest 2^k·{1, 1.25, 1.5, 1.75} ≥ n (n itself below 64).</summary>
    internal static int SizeClass(int n)
    {
        if (n <= 64) return Math.Max(n, 1);
        int power = 1 << (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)n)); // largest 2^k ≤ n
        if (n == power) return n;
        int quarter = power / 4;
        long c = power + (long)((n - power + quarter - 1) / quarter) * quarter;
        return (int)Math.Min(c, int.MaxValue - AlignFloats);
    }

    private static unsafe int AlignedOffset(float[] pinned)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref pinned[0]);
        int misalignment = (int)(address % 64);
        return misalignment == 0 ? 0 : (64 - misalignment) / sizeof(float);
    }
}

/// <summary>Byte and int arrays (ReLU masks, max-pool taps) from a pool that also keeps large arrays.</summary>
public static class ScratchPool
{
    private static readonly ConcurrentDictionary<int, ConcurrentBag<byte[]>> s_free = new();
    private static long s_allocatedBytes;

    /// <summary>Bytes of every array this pool has allocated (they are kept for reuse, so this is its footprint).</summary>
    public static long AllocatedBytes => Interlocked.Read(ref s_allocatedBytes);

    /// <summary>
    /// A byte array of at least <paramref name="length"/>, in the same size classes as
    /// <see cref="BufferPool"/> (≤ 25% slack) and, like it, taking an idle array up to 2× larger before
    /// allocating: IG's shorter chunks then reuse the full chunks' masks, so memory stays flat in the steps.
    /// </summary>
    public static byte[] RentBytes(int length)
    {
        int capacity = BufferPool.SizeClass(length);
        if (BufferPool.ScaledClass(length) is int scaled && s_free.TryGetValue(scaled, out var scaledBag) && scaledBag.TryTake(out var match)) return match;
        for (int step = 0, c = capacity, classes = BufferPool.ClassesToSearch; step < classes && c > 0; step++, c = BufferPool.SizeClass(c + 1))
        {
            if (s_free.TryGetValue(c, out var bag) && bag.TryTake(out var array)) return array;
            if (c <= 64) break;
        }
        Interlocked.Add(ref s_allocatedBytes, capacity);
        return GC.AllocateUninitializedArray<byte>(capacity);
    }

    /// <summary>Gives back an array from <see cref="RentBytes"/>.</summary>
    public static void ReturnBytes(byte[] array)
    {
        if (array.Length == 0 || array.Length != BufferPool.SizeClass(array.Length)) return; // not one of ours
        s_free.GetOrAdd(array.Length, _ => new ConcurrentBag<byte[]>()).Add(array);
    }
}
