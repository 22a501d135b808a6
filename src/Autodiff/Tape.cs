using NativeIg.Tensors;

namespace NativeIg.Autodiff;

/// <summary>
/// Records operations as they run so that <see cref="Backward"/> can replay their chain rules in
/// reverse. Ops are methods of the tape (in Ops*.cs), each holding its forward and its backward
/// together: the forward computes the output and returns a closure that, given ∂L/∂output, adds
/// ∂L/∂input into each input that requires a gradient.
/// </summary>
/// <remarks>
/// An inference tape (<see cref="ForInference"/>) records nothing and keeps no activations beyond
/// those the caller still holds; <see cref="Free"/> lets a model drop an intermediate as soon as it
/// is used up. A recording tape owns every op output and cache until <see cref="Backward"/> finishes,
/// then releases them; it cannot be replayed.
/// </remarks>
public sealed partial class Tape : IDisposable
{
    private readonly List<Node> _nodes = [];
    private readonly List<Variable> _owned = [];
    private bool _released;

    /// <summary>Whether ops record their chain rules (false for inference).</summary>
    public bool IsRecording { get; }

    public Tape() : this(recording: true) { }

    private Tape(bool recording) => IsRecording = recording;

    public static Tape ForInference() => new(recording: false);

    /// <summary>Number of recorded ops (tests and the docs use it).</summary>
    public int RecordedOps => _nodes.Count;

    /// <summary>A leaf input of this tape, e.g. the images IG differentiates with respect to. The tape does not take ownership of <paramref name="value"/>.</summary>
    public Variable Input(Tensor value, string name = "input", bool requiresGrad = true)
    {
        ThrowIfReleased();
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
        if (seed is null)
        {
            if (output.Value.Length != 1)
                throw new ArgumentException($"Backward without a seed needs a scalar output; {output} has {output.Value.Length} elements. Pass a seed of shape {output.Value.ShapeString}.");
            output.Grad = Tensor.Filled(1f, output.Value.Shape.ToArray());
        }
        else
        {
            if (!seed.SameShape(output.Value))
                throw new ArgumentException($"Backward seed shape {seed.ShapeString} does not match the output shape {output.Value.ShapeString}.");
            var g = seed.Clone();
            if (output.Grad is null) output.Grad = g;
            else { System.Numerics.Tensors.TensorPrimitives.Add(output.Grad.Span, g.Span, output.Grad.Span); g.Dispose(); }
        }
        try
        {
            for (int i = _nodes.Count - 1; i >= 0; i--)
            {
                var node = _nodes[i];
                var dy = node.Output.Grad;
                if (dy is not null) node.Backward(dy);
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

    /// <summary>In inference mode, disposes an intermediate result now; on a recording tape it stays until Backward.</summary>
    public void Free(Variable v)
    {
        if (IsRecording || v.Owner != this) return;
        v.Value.Dispose();
        _owned.Remove(v);
    }

    /// <summary>The gradient buffer an op writes into, and whether it must add to what is there.</summary>
    internal static (Tensor Grad, bool Accumulate) GradTarget(Variable v)
    {
        if (v.Grad is not null) return (v.Grad, true);
        v.Grad = Tensor.Uninitialized(v.Value.Shape.ToArray());
        return (v.Grad, false);
    }

    /// <summary>Registers an op's output and, when recording and any input needs a gradient, its chain rule.</summary>
    internal Variable Record(Tensor output, string name, Variable[] inputs, Func<Action<Tensor>> makeBackward, params IDisposable?[] cache)
    {
        ThrowIfReleased();
        bool requiresGrad = false;
        if (IsRecording)
            foreach (var input in inputs) requiresGrad |= input.RequiresGrad;
        var result = new Variable(output, requiresGrad, name, this);
        _owned.Add(result);
        if (requiresGrad) _nodes.Add(new Node(result, makeBackward(), cache));
        else foreach (var c in cache) c?.Dispose();
        return result;
    }

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

    public void Dispose() => Release();

    private sealed class Node(Variable output, Action<Tensor> backward, IDisposable?[] cache)
    {
        public Variable Output { get; } = output;
        public Action<Tensor> Backward { get; } = backward;

        public void ReleaseCache()
        {
            for (int i = 0; i < cache.Length; i++)
            {
                cache[i]?.Dispose();
                cache[i] = null;
            }
        }
    }
}
