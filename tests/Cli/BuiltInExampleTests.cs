using NativeIg.InceptionV1;
using Xunit;

namespace NativeIg.Tests;

/// <summary>The first run needs nothing private: the built-in example image is embedded and classifies as what it shows.</summary>
[Collection("model")]
public class BuiltInExampleTests(ModelFixture fixture)
{
    [SharedFact]
    public void TheBuiltInExampleIsAGiantPanda()
    {
        using var image = NativeIg.Cli.Explain.BuiltInExample();
        Assert.Equal([224, 224, 3], image.Shape.ToArray());
        using var batch = image.Reshape(1, 224, 224, 3);
        using var p = fixture.Model.PredictProbabilities(batch);
        Assert.Equal(388, NativeIg.Tensors.Ranking.TopK(p.Span, 1)[0].Index); // giant panda
    }
}
