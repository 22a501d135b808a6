using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>Loads the real weights once for every test class that needs them.</summary>
public sealed class ModelFixture
{
    private readonly Lazy<GoogLeNet> _model = new(() => GoogLeNet.Load(Shared("weights/bvlc_googlenet.caffemodel")));
    private readonly Lazy<ImageNetLabels> _labels = new(() => ImageNetLabels.Load(Shared("labels/synset_words.txt")));

    public GoogLeNet Model => _model.Value;
    public ImageNetLabels Labels => _labels.Value;
}

[CollectionDefinition("model")]
public class ModelCollection : ICollectionFixture<ModelFixture>;
