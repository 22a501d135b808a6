using NativeIg.InceptionV1;
using NativeIg.Tensors;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[Collection("model")]
public class ReferenceProbabilityTests(ModelFixture fixture)
{
    /// <summary>
    /// The golden probabilities come from a float64 libtorch run; three float32 engines agree with them to
    /// 8e-6, so a float32 engine must be within 1e-5 on all 1000 classes (reference/README.md).
    /// </summary>
    [Trait("Category", "Quick")]
    [SharedTheory]
    [InlineData("fireboat", 554)]
    [InlineData("giant_panda", 388)]
    [InlineData("city", 819)]
    public void ReferenceInputsGiveReferenceProbabilities(string name, int top)
    {
        using var probabilities = AssertReferenceProbabilities(fixture.Model, name, "on the CPU");
        Assert.Equal(top, NativeIg.Tensors.Ranking.TopK(probabilities.Span, 1)[0].Index);
    }

    /// <summary>The model's probabilities for a golden input, checked within 1e-5 of the golden ones (reference/README.md).</summary>
    internal static Tensor AssertReferenceProbabilities(GoogLeNet model, string name, string where)
    {
        using var input = Npy.Read(Shared($"reference/{name}_input.npy"));
        using var expected = Npy.Read(Shared($"reference/{name}_probs.npy"));
        using var batch = input.Reshape(1, 224, 224, 3);
        var probabilities = model.PredictProbabilities(batch);
        AssertClose(expected.Span, probabilities.Span, 1e-5, 0, $"{name} probabilities {where}");
        return probabilities;
    }

    [SharedTheory]
    [InlineData("fireboat")]
    [InlineData("giant_panda")]
    [InlineData("city")]
    public void JpegThroughOurDecoderAndResizeMatchesTheReferenceInput(string name)
    {
        using var image = ImageLoader.LoadForModel(Shared($"images/{name}.jpg"));
        using var expected = Npy.Read(Shared($"reference/{name}_input.npy"));
        AssertClose(expected.Span, image.Span, 1e-6, 0, $"{name} decoded and resized");
        using var batch = image.Reshape(1, 224, 224, 3);
        using var probabilities = fixture.Model.PredictProbabilities(batch);
        using var expectedProbabilities = Npy.Read(Shared($"reference/{name}_probs.npy"));
        AssertClose(expectedProbabilities.Span, probabilities.Span, 1e-5, 0, $"{name} probabilities from the JPEG");
    }

    [SharedFact]
    public void BatchesGiveTheSameAnswerAsSingleImages()
    {
        using var a = Npy.Read(Shared("reference/fireboat_input.npy"));
        using var b = Npy.Read(Shared("reference/city_input.npy"));
        using var batch = Tensor.Uninitialized(3, 224, 224, 3);
        a.Span.CopyTo(batch.Span);
        b.Span.CopyTo(batch.Span[a.Length..]);
        a.Span.CopyTo(batch.Span[(2 * a.Length)..]);
        using var p = fixture.Model.PredictProbabilities(batch);
        using var single = fixture.Model.PredictProbabilities(b.Reshape(1, 224, 224, 3));
        AssertClose(single.Span, p.Span.Slice(1000, 1000), 1e-6, 0, "batch row vs single image");
    }

    [SharedFact]
    public void ModelHasTheExpectedParametersAndRejectsWrongInputShapes()
    {
        Assert.Equal(6_998_552, fixture.Model.ParameterCount);
        Assert.Equal(58, GoogLeNet.ParameterLayers.Count);
        using var wrong = Tensor.Zeros(1, 200, 200, 3);
        var e = Assert.Throws<ArgumentException>(() => fixture.Model.PredictProbabilities(wrong));
        Assert.Contains("[1, 200, 200, 3]", e.Message);
    }

    [SharedFact]
    public void LabelsReadBothFormatsAndFindNames()
    {
        var synsets = ImageNetLabels.Load(Shared("labels/synset_words.txt"));
        var tensorflow = ImageNetLabels.Load(Shared("labels/ImageNetLabels.txt"));
        Assert.Equal("fireboat", synsets[554]);
        Assert.Equal("giant panda", synsets[388]);
        Assert.Equal(1000, tensorflow.Count);
        Assert.Equal(tensorflow.Find("fireboat"), synsets.Find("FIREBOAT"));
        Assert.Equal(388, synsets.Find("388"));
        Assert.Null(synsets.Find("1000"));
        Assert.Null(synsets.Find("not a label"));
    }
}
