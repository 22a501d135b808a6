using NativeIg.InceptionV1;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

[CollectionDefinition("environment", DisableParallelization = true)]
public class EnvironmentCollection;

/// <summary>`nativeig weights fetch` and the per-user cache the resolver falls back to.</summary>
[Collection("environment")]
public class WeightsCommandTests
{
    [SharedFact]
    public void FetchFromAFolderVerifiesCopiesAndIsIdempotent()
    {
        var to = TempDir();
        var (code, output, error) = RunCli("weights", "fetch", "--from", Shared("weights"), "--to", to);
        Assert.True(code == 0, error);
        Assert.Equal(new FileInfo(Shared("weights/bvlc_googlenet.caffemodel")).Length, new FileInfo(Path.Combine(to, "bvlc_googlenet.caffemodel")).Length);
        Assert.Equal(1000, ImageNetLabels.Load(Path.Combine(to, "synset_words.txt")).Count); // from ../labels beside the weights folder
        Assert.Contains("verified and in place", output);
        (code, output, _) = RunCli("weights", "fetch", "--from", Shared("weights"), "--to", to);
        Assert.Equal(0, code);
        Assert.Contains("already here and verified", output);
        Assert.Equal(2, Directory.GetFiles(to).Length); // no temporary files left
    }

    [SharedFact]
    public void ADamagedSourceLeavesNothingBehind()
    {
        var from = TempDir();
        var bytes = File.ReadAllBytes(Shared("weights/bvlc_googlenet.caffemodel"));
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(from, "bvlc_googlenet.caffemodel"), bytes);
        var to = TempDir();
        var (code, _, error) = RunCli("weights", "fetch", "--from", from, "--to", to);
        Assert.Equal(1, code);
        Assert.Contains("neither known GoogLeNet file", error);
        Assert.Empty(Directory.GetFiles(to));
        (code, _, error) = RunCli("weights", "fetch", "--from", Path.Combine(from, "missing"), "--to", to);
        Assert.Equal(2, code);
        (code, _, _) = RunCli("weights", "frobnicate");
        Assert.Equal(2, code);
    }

    [SharedFact]
    public void TheResolverAndTheLabelsFallBackToTheUserCache()
    {
        var cache = TempDir();
        var saved = (Environment.GetEnvironmentVariable("XDG_CACHE_HOME"), Environment.GetEnvironmentVariable(WeightsResolver.EnvironmentVariable), Directory.GetCurrentDirectory());
        try
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", cache);
            Assert.Equal(Path.Combine(cache, "nativeig"), WeightsResolver.CacheDirectory);
            var (code, _, error) = RunCli("weights", "fetch", "--from", Shared("weights"));
            Assert.True(code == 0, error);
            // From a folder with no weights/ above it and no NATIVEIG_WEIGHTS, the cache is what is found
            // (unless a weights/ folder exists beside the test binaries, as in a developer checkout).
            Environment.SetEnvironmentVariable(WeightsResolver.EnvironmentVariable, null);
            Directory.SetCurrentDirectory(TempDir());
            var resolved = WeightsResolver.Resolve();
            bool checkoutHasWeights = WeightsResolver.SearchDirectories().Any(d => File.Exists(Path.Combine(d, "weights", WeightsLoader.FileName)));
            if (!checkoutHasWeights) Assert.Equal(Path.Combine(cache, "nativeig", WeightsLoader.FileName), resolved);
            // Labels are found beside the weights in use.
            var labels = ImageNetLabels.LoadDefault(null, Path.Combine(cache, "nativeig", WeightsLoader.FileName));
            Assert.Equal("fireboat", labels[554]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved.Item1);
            Environment.SetEnvironmentVariable(WeightsResolver.EnvironmentVariable, saved.Item2);
            Directory.SetCurrentDirectory(saved.Item3);
        }
    }
}
