using NativeIg.Autodiff;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>The tape's contract: accumulation, frozen weights, memory release, clear errors.</summary>
public class TapeTests
{
    [Fact]
    public void GradientsAccumulateWhereAValueIsUsedFourTimes()
    {
        // Like an inception block: four branches read the same input.
        using var X = Tensor.FromSpan([1f, 2f, 3f], 3);
        using var tape = new Tape();
        var x = tape.Input(X);
        var sum = tape.Add(tape.Add(tape.Scale(x, 1f), tape.Scale(x, 2f)), tape.Add(tape.Scale(x, 3f), tape.Relu(x)));
        tape.Backward(tape.Sum(sum));
        Assert.Equal([7f, 7f, 7f], x.Grad!.ToArray());
    }

    [Fact]
    public void FrozenParametersGetNoGradientAndTrainableOnesDo()
    {
        using var W = Tensor.FromSpan(Random(3 * 3 * 2 * 4, 1), 3, 3, 2, 4);
        using var X = Tensor.FromSpan(Random(1 * 4 * 4 * 2, 2), 1, 4, 4, 2);
        var frozen = Variable.Parameter(W, "frozen");
        var trainable = Variable.Parameter(W, "trainable", requiresGrad: true);
        foreach (var w in new[] { frozen, trainable })
        {
            using var tape = new Tape();
            var x = tape.Input(X);
            tape.Backward(tape.Sum(tape.Conv2d(x, w, null, 1, 1)));
            Assert.NotNull(x.Grad);
            Assert.Equal(w.RequiresGrad, w.Grad is not null);
            x.Grad!.Dispose();
            w.ZeroGrad();
        }
    }

    [Fact]
    public void InferenceTapeRecordsNothingAndRefusesBackward()
    {
        using var X = Tensor.FromSpan([1f, -2f], 2);
        using var tape = Tape.ForInference();
        var x = tape.Input(X);
        var y = tape.Sum(tape.Relu(x));
        Assert.Equal(0, tape.RecordedOps);
        Assert.False(y.RequiresGrad);
        Assert.Throws<InvalidOperationException>(() => tape.Backward(y));
    }

    [Fact]
    public void SecondBackwardAndWrongSeedFailClearly()
    {
        using var X = Tensor.FromSpan([1f, 2f, 3f, 4f], 2, 2);
        var tape = new Tape();
        var x = tape.Input(X);
        var y = tape.Softmax(x);
        using var badSeed = Tensor.Zeros(4);
        var e = Assert.Throws<ArgumentException>(() => tape.Backward(y, badSeed));
        Assert.Contains("[4]", e.Message);
        Assert.Contains("[2, 2]", e.Message);
        var vector = Assert.Throws<ArgumentException>(() => tape.Backward(y));
        Assert.Contains("scalar", vector.Message);
        tape.Backward(tape.Sum(y));
        var again = Assert.Throws<InvalidOperationException>(() => tape.Backward(y));
        Assert.Contains("released", again.Message);
        Assert.Throws<InvalidOperationException>(() => tape.Relu(x));
    }

    [Fact]
    public void MismatchedShapesRaise()
    {
        using var A = Tensor.Zeros(2, 3);
        using var B = Tensor.Zeros(3, 2);
        using var tape = new Tape();
        var e = Assert.Throws<ArgumentException>(() => tape.Add(tape.Input(A), tape.Input(B)));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
    }

    [Fact]
    public void BackwardReleasesTheTapesMemory()
    {
        using var X = Tensor.FromSpan(Random(1 * 8 * 8 * 3, 3), 1, 8, 8, 3);
        using var W = Tensor.FromSpan(Random(3 * 3 * 3 * 4, 4), 3, 3, 3, 4);
        var w = Variable.Parameter(W, "w");
        var tape = new Tape();
        var x = tape.Input(X);
        var hidden = tape.Conv2d(x, w, null, 1, 1, relu: true);
        var output = tape.Sum(hidden);
        tape.Backward(output);
        Assert.True(hidden.Value.IsDisposed);
        Assert.False(X.IsDisposed); // inputs belong to the caller
        x.Grad!.Dispose();
    }

    [Fact]
    public void FreeDropsUnsavedIntermediatesButKeepsWhatBackwardNeeds()
    {
        using var X = Tensor.FromSpan(Random(1 * 4 * 4 * 3, 5), 1, 4, 4, 3);
        using var tape = new Tape();
        var x = tape.Input(X);
        var lrnInput = tape.Scale(x, 2f);
        var normalized = tape.Lrn(lrnInput, new LrnParameters(Size: 5));
        var scaled = tape.Scale(normalized, 3f);
        tape.Free(lrnInput);   // LRN's backward reads its input: kept
        tape.Free(normalized); // Scale's backward reads nothing: freed
        Assert.False(lrnInput.Value.IsDisposed);
        Assert.True(normalized.Value.IsDisposed);
        tape.Backward(tape.Sum(scaled));
        Assert.NotNull(x.Grad);
        x.Grad!.Dispose();
    }
}
