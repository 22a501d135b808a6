using NativeIg.InceptionV1;
using Xunit;

namespace NativeIg.Tests;

/// <summary><see cref="GoogLeNet.Table1"/> against the numbers printed in table 1 of the paper, and what is derived from it.</summary>
public class GoogLeNetTableTests
{
    [Fact]
    public void RowsHaveThePapersOutputSizesAndDepths()
    {
        // Szegedy et al. 2015, table 1, "output size" column (the LRN rows are Caffe's, sized like their inputs).
        (string Name, int Size, int Depth)[] paper =
        [
            ("conv1/7x7_s2", 112, 64), ("pool1/3x3_s2", 56, 64), ("pool1/norm1", 56, 64), ("conv2/3x3_reduce", 56, 64),
            ("conv2/3x3", 56, 192), ("conv2/norm2", 56, 192), ("pool2/3x3_s2", 28, 192),
            ("inception_3a", 28, 256), ("inception_3b", 28, 480), ("pool3/3x3_s2", 14, 480),
            ("inception_4a", 14, 512), ("inception_4b", 14, 512), ("inception_4c", 14, 512), ("inception_4d", 14, 528), ("inception_4e", 14, 832),
            ("pool4/3x3_s2", 7, 832), ("inception_5a", 7, 832), ("inception_5b", 7, 1024), ("pool5/7x7_s1", 1, 1024), ("loss3/classifier", 1, 1000),
        ];
        Assert.Equal(paper, GoogLeNet.Table1.Select(s => (s.Name, s.OutputSize, s.Depth)).ToArray());
    }

    [Fact]
    public void ConvolutionsAndParametersAreDerivedFromTheTable()
    {
        Assert.Equal(57, GoogLeNet.Convolutions.Count);
        Assert.Equal(58, GoogLeNet.ParameterLayers.Count);
        var conv1 = GoogLeNet.Convolutions[0];
        Assert.Equal(new ConvolutionLayer("conv1/7x7_s2", 224, 7, 2, 3, 3, 64), conv1);
        // inception_4a reads pool3's 14×14×480; its 3×3 branch reads its own reduce layer.
        Assert.Contains(new ConvolutionLayer("inception_4a/1x1", 14, 1, 1, 0, 480, 192), GoogLeNet.Convolutions);
        Assert.Contains(new ConvolutionLayer("inception_4a/3x3", 14, 3, 1, 1, 96, 208), GoogLeNet.Convolutions);
        Assert.Contains(new ConvolutionLayer("inception_5b/pool_proj", 7, 1, 1, 0, 832, 128), GoogLeNet.Convolutions);
        Assert.Equal(("loss3/classifier", 0, 1024, 1000), GoogLeNet.ParameterLayers[^1]);
        // Every layer reads what the one before it in its branch writes (a wrong row breaks this chain).
        foreach (var c in GoogLeNet.Convolutions.Where(c => c.Name.EndsWith("/3x3") || c.Name.EndsWith("/5x5")))
        {
            var reduce = GoogLeNet.Convolutions.Single(r => r.Name == c.Name + "_reduce");
            Assert.Equal(reduce.Outputs, c.Inputs);
        }
    }
}
