namespace NativeIg.Tensors;

/// <summary>
/// How many worker threads the parallel kernels (GEMM, convolution, pooling, LRN, ReLU) use. A call
/// sets its own limit with <see cref="Limit"/>: the limit holds for that call's flow (it follows
/// <c>async</c> continuations and the kernels' own workers) and for no one else, so two callers of
/// one loaded model can run with different thread counts at once. Results do not depend on the
/// thread count: every kernel splits work so that each output is summed in the same order.
/// </summary>
public static class ComputeThreads
{
    /// <summary>The most threads a limit may ask for.</summary>
    public const int MaxThreads = 1024;

    private static readonly AsyncLocal<int?> Scoped = new();
    private static int _default = Environment.ProcessorCount;

    /// <summary>
    /// The count used where no <see cref="Limit"/> is in force: all cores unless the host application
    /// changes it (once, at startup; a library should pass a per-call limit instead).
    /// </summary>
    public static int Default
    {
        get => Volatile.Read(ref _default);
        set => Volatile.Write(ref _default, Validate(value));
    }

    /// <summary>The count in force for the current call.</summary>
    public static int Current => Scoped.Value ?? Default;

    /// <summary>Uses at most <paramref name="threads"/> threads until the returned scope is disposed (null: leave it as it is).</summary>
    public static IDisposable Limit(int? threads)
    {
        var previous = Scoped.Value;
        if (threads is { } n) Scoped.Value = Validate(n);
        return new Restore(previous);
    }

    private static int Validate(int threads) => threads is >= 1 and <= MaxThreads
        ? threads
        : throw new ArgumentOutOfRangeException(nameof(threads), threads, $"The thread count must be in 1…{MaxThreads}.");

    private sealed class Restore(int? previous) : IDisposable
    {
        private bool _done;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            Scoped.Value = previous;
        }
    }
}
