namespace NativeIg.Autodiff;

/// <summary>Accumulated forward and backward milliseconds per op kind ("conv3x3", "lrn", …).</summary>
public sealed class TapeProfile
{
    private readonly Dictionary<string, (long Forward, long Backward, int Count)> _ticks = new();

    internal void AddForward(string kind, long ticks)
    {
        lock (_ticks)
        {
            var t = _ticks.GetValueOrDefault(kind);
            _ticks[kind] = (t.Forward + ticks, t.Backward, t.Count + 1);
        }
    }

    internal void AddBackward(string kind, long ticks)
    {
        lock (_ticks)
        {
            var t = _ticks.GetValueOrDefault(kind);
            _ticks[kind] = (t.Forward, t.Backward + ticks, t.Count);
        }
    }

    /// <summary>(kind, forward ms, backward ms, ops recorded), slowest first.</summary>
    public IReadOnlyList<(string Kind, double ForwardMs, double BackwardMs, int Count)> Rows()
    {
        double ms = 1000.0 / System.Diagnostics.Stopwatch.Frequency;
        lock (_ticks)
            return _ticks.Select(kv => (kv.Key, kv.Value.Forward * ms, kv.Value.Backward * ms, kv.Value.Count))
                .OrderByDescending(r => r.Item2 + r.Item3).ToList();
    }

    /// <inheritdoc />
    public override string ToString() =>
        string.Join(Environment.NewLine, Rows().Select(r => $"{r.Kind,-14} forward {r.ForwardMs,9:F1} ms  backward {r.BackwardMs,9:F1} ms  ({r.Count} ops)"));
}
