using NativeIg.Tensors;

namespace NativeIg.Autodiff;

/// <summary>
/// Records operations as they run so that <see cref="Backward"/> can replay their chain rules in
/// reverse. Ops are methods of the tape, one file per op family in Ops/, each holding its forward and its backward
/// together: the forward computes the output and returns a closure that, given ∂L/∂output, adds
/// ∂L/∂input into each input that requires a gradient.
/// </summary>
/// <remarks>
/// Each op declares what its backward reads (saved inputs, its own output, or a compact cache such
/// as a ReLU mask); <see cref="Free"/> lets a model drop an intermediate as soon as the forward pass
/// is done with it, and the value really goes unless a backward saved it. An inference tape
/// (<see cref="ForInference"/>) records nothing, so every freed value goes. A recording tape releases
/// all it owns when <see cref="Backward"/> finishes; it cannot be replayed.
/// </remarks>
public sealed partial class Tape : IDisposable
{
    private readonly List<Node> _nodes = [];
    private readonly List<Variable> _owned = [];
    private List<IDisposable>? _pendingCache;
    private bool _released;

    /// <summary>When set, forward and backward time per op kind is added to it (benchmarks and tuning).</summary>
    /// <summary>Per-op-kind timing; on a device it synchronises after every op, so it measures, and costs, the ops one at a time.</summary>
    public TapeProfile? Profile { get; set; }

    private long _lastRecordTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>Whether ops record their chain rules (false for inference).</summary>
    public bool IsRecording { get; }

    /// <summary>A tape that records each op's chain rule, for a backward pass.</summary>
    public Tape() : this(recording: true) { }

    private Tape(bool recording) => IsRecording = recording;

    /// <summary>A tape that records nothing and frees each intermediate once it is dead (inference).</summary>
    public static Tape ForInference() => new(recording: false);

    /// <summary>
    /// Called with every op's output as the op records it, by its name (a model's layer names, e.g.
    /// <c>inception_4d/output</c>); the forward goes on with what it returns. Return the argument to
    /// watch a layer, or another variable of the same rank to replace it (layer attribution interpolates
    /// a layer's activations this way). An exception thrown here stops the model's forward where it is.
    /// </summary>
    public Func<Variable, Variable>? Intercept { get; set; }

    /// <summary>Number of recorded ops (tests and the docs use it).</summary>
    public int RecordedOps => _nodes.Count;

    /// <summary>A leaf input of this tape, e.g. the images IG differentiates with respect to. The tape does not take ownership of <paramref name="value"/>.</summary>
    public Variable Input(Tensor value, string name = "input", bool requiresGrad = true)
    {
        ThrowIfReleased();
        _lastRecordTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        return new Variable(value, requiresGrad && IsRecording, name, null);
    }

    /// <summary>
    /// Runs ∂L/∂output = <paramref name="seed"/> (1 for a scalar output when omitted) back through every
    /// recorded op. Leaf variables that require gradients get (or add to) <see cref="Variable.Grad"/>.
    /// Releases the tape's activations and caches when done.
    /// </summary>
    public void Backward(Variable output, Tensor? seed = null)
    {
        ThrowIfReleased();
        if (!IsRecording) throw new InvalidOperationException("An inference tape records no ops; use a recording Tape to compute gradients.");
        if (!output.RequiresGrad) throw new InvalidOperationException($"{output} does not depend on anything that requires a gradient.");
        var device = output.Value.Device;
        if (seed is null)
        {
            if (output.Value.Length != 1)
                throw new ArgumentException($"Backward without a seed needs a scalar output; {output} has {output.Value.Length} elements. Pass a seed of shape {output.Value.ShapeString}.");
            output.Grad = Tensor.Uninitialized(device, output.Value.Shape.ToArray());
            output.Grad.Fill(1f);
        }
        else
        {
            if (!seed.SameShape(output.Value))
                throw new ArgumentException($"Backward seed shape {seed.ShapeString} does not match the output shape {output.Value.ShapeString}.");
            var g = seed.To(device); // a copy, on the output's device
            if (output.Grad is null) output.Grad = g;
            else { Tensor.ScaleInto(output.Grad, g, accumulate: true); g.Dispose(); }
        }
        try
        {
            for (int i = _nodes.Count - 1; i >= 0; i--)
            {
                var node = _nodes[i];
                var dy = node.Output.Grad;
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                if (dy is not null) node.Backward(dy);
                if (Profile is not null) node.Output.Device?.Synchronize(); // device kernels are asynchronous
                Profile?.AddBackward(node.Kind, System.Diagnostics.Stopwatch.GetTimestamp() - started);
                node.ReleaseCache();
                // Every consumer of this output ran before its producer (reverse order), so its value
                // and gradient are used up now: freeing them keeps backward's peak near forward's.
                if (node.Output.Owner == this)
                {
                    node.Output.Grad?.Dispose();
                    node.Output.Grad = null;
                    if (!ReferenceEquals(node.Output, output)) node.Output.Value.Dispose();
                }
            }
        }
        finally
        {
            Release();
        }
    }

    /// <summary>
    /// Says the forward pass is done with an intermediate result: its storage goes back to the pool now
    /// unless a recorded backward reads it. Leaves and other tapes' values are left alone.
    /// </summary>
    public void Free(Variable v)
    {
        if (v.Owner != this || v.Saved) return;
        v.Value.Dispose();
    }

    /// <summary>The gradient buffer an op writes into (on the value's device), and whether it must add to what is there.</summary>
    internal static (Tensor Grad, bool Accumulate) GradTarget(Variable v)
    {
        if (v.Grad is not null) return (v.Grad, true);
        v.Grad = Tensor.Uninitialized(v.Device, v.Value.Shape.ToArray()); // v.Device: the value itself may be freed already
        return (v.Grad, false);
    }

    /// <summary>
    /// Registers an op's output and, when recording and any input needs a gradient, its chain rule:
    /// <paramref name="makeBackward"/> runs now (so it can compute compact caches from forward values
    /// and keep them with <see cref="KeepForBackward"/>) and returns the closure Backward will call.
    /// <paramref name="saves"/> and <paramref name="savesOutput"/> name the values that closure reads.
    /// </summary>
    internal Variable Record(Tensor output, string name, Variable[] inputs, Func<Action<Tensor>> makeBackward,
        Variable[]? saves = null, bool savesOutput = false, string? kind = null)
    {
        ThrowIfReleased();
        kind ??= name;
        // Ops run their forward just before recording, so the time since the last record is this op's
        // (when profiling, once the device has finished it: its kernels only queue work).
        if (Profile is not null) output.Device?.Synchronize();
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        Profile?.AddForward(kind, now - _lastRecordTimestamp);
        bool requiresGrad = false;
        if (IsRecording)
            foreach (var input in inputs) requiresGrad |= input.RequiresGrad;
        var result = new Variable(output, requiresGrad, name, this);
        _owned.Add(result);
        if (!requiresGrad)
        {
            _lastRecordTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
            return Intercept is { } interceptNotRecorded ? interceptNotRecorded(result) : result;
        }
        foreach (var v in saves ?? []) v.Saved = true;
        result.Saved = savesOutput;
        _pendingCache = [];
        var backward = makeBackward();
        _nodes.Add(new Node(result, backward, _pendingCache, kind));
        _pendingCache = null;
        _lastRecordTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        return Intercept is { } intercept ? intercept(result) : result;
    }

    /// <summary>Keeps a cache (a mask, pooling taps) until the recording op's backward has run.</summary>
    internal void KeepForBackward(IDisposable cache) =>
        (_pendingCache ?? throw new InvalidOperationException("KeepForBackward is only valid while an op records its backward.")).Add(cache);

    private void ThrowIfReleased()
    {
        if (_released) throw new InvalidOperationException("This tape was released after Backward (or disposed); record a new one.");
    }

    private void Release()
    {
        if (_released) return;
        _released = true;
        foreach (var node in _nodes) node.ReleaseCache();
        _nodes.Clear();
        foreach (var v in _owned)
        {
            v.Value.Dispose();
            v.Grad?.Dispose();
            v.Grad = null;
        }
        _owned.Clear();
    }

    /// <summary>Gives back every tensor the tape owns (op outputs, gradients of non-parameters, what backward kept).</summary>
    public void Dispose() => Release();

    private sealed class Node(Variable output, Action<Tensor> backward, List<IDisposable> cache, string kind)
    {
        public Variable Output { get; } = output;
        public string Kind { get; } = kind;
        public Action<Tensor> Backward { get; } = backward;

        public void ReleaseCache()
        {
            foreach (var c in cache) c.Dispose();
            cache.Clear();
        }
    }
}
