using System.Diagnostics;
using System.Text.Json;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// What a new user meets first: getting the weights (the labels are optional everywhere), the help, the
/// quiet flag, the tool's runtime roll-forward, the pack output ignored by git. Each was a defect found
/// on a fresh clone.
/// </summary>
[Collection("labels-url")]
public class FirstRunTests
{
    /// <summary>The repository's root (where weights/ and README.md are), found from the test binary up.</summary>
    private static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "NativeIg.sln"))) return dir.FullName;
            throw new InvalidOperationException("the repository root (NativeIg.sln) was not found above the test binary");
        }
    }

    /// <summary>A labels "mirror" nothing listens on: the optional download fails at once, as where its host is blocked.</summary>
    private const string UnreachableLabels = "http://127.0.0.1:9/synset_words.txt";

    [SharedFact]
    public void FetchShWithOnlyTheWeightsPlacesThemAndExitsZeroWithANoteOnTheLabels()
    {
        var copy = TempDir();
        foreach (var file in new[] { "fetch.sh", "SHA256SUMS" }) File.Copy(Path.Combine(Root, "weights", file), Path.Combine(copy, file));
        var mirror = TempDir();
        File.CreateSymbolicLink(Path.Combine(mirror, "bvlc_googlenet.caffemodel"), Shared("weights/bvlc_googlenet.caffemodel"));
        var start = new ProcessStartInfo("bash", [Path.Combine(copy, "fetch.sh"), mirror]) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["NATIVEIG_LABELS_URL"] = UnreachableLabels;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "fetch.sh did not finish");
        Assert.True(process.ExitCode == 0, error.Result + output.Result);
        Assert.Contains("built-in ImageNet labels are used", output.Result);
        Assert.True(File.Exists(Path.Combine(copy, "bvlc_googlenet.caffemodel")));
        Assert.False(File.Exists(Path.Combine(copy, "synset_words.txt")));
        Assert.Empty(Directory.GetFiles(copy, "*.part"));
    }

    [SharedFact]
    public void WeightsFetchFromAFolderWithOnlyTheWeightsSucceedsWithANoteOnTheLabels()
    {
        var from = TempDir();
        // A link to the weights, as a user's mirror often is: it is followed and sized by its target.
        File.CreateSymbolicLink(Path.Combine(from, "bvlc_googlenet.caffemodel"), Shared("weights/bvlc_googlenet.caffemodel"));
        var to = TempDir();
        var saved = Environment.GetEnvironmentVariable("NATIVEIG_LABELS_URL");
        Environment.SetEnvironmentVariable("NATIVEIG_LABELS_URL", UnreachableLabels);
        try
        {
            var (code, output, error) = RunCli("weights", "fetch", "--from", from, "--to", to);
            Assert.True(code == 0, error);
            Assert.Contains("verified and in place", output);
            Assert.Contains("built into NativeIg.InceptionV1 are used", error);
            Assert.Equal(["bvlc_googlenet.caffemodel"], Directory.GetFiles(to).Select(Path.GetFileName).ToArray());
        }
        finally { Environment.SetEnvironmentVariable("NATIVEIG_LABELS_URL", saved); }
    }

    [Fact]
    public void WeightsFetchChecksTypeAndSizeBeforeCopying()
    {
        var cases = new Dictionary<string, Action<string>>
        {
            ["a link to /dev/zero"] = path => File.CreateSymbolicLink(path, "/dev/zero"),
            ["a 2 GiB sparse file"] = path => { using var f = File.Create(path); f.SetLength(2L << 30); },
            ["a FIFO"] = MakeFifo,
        };
        foreach (var (what, make) in cases)
        {
            var from = TempDir();
            make(Path.Combine(from, "bvlc_googlenet.caffemodel"));
            var to = TempDir();
            var clock = Stopwatch.StartNew();
            var task = Task.Run(() => RunCli("weights", "fetch", "--from", from, "--to", to));
            Assert.True(task.Wait(TimeSpan.FromSeconds(60)), $"{what}: weights fetch blocked");
            var (code, _, error) = task.Result;
            Assert.True(code == 1, $"{what}: exit {code}: {error}");
            Assert.Contains("nothing was copied", error);
            Assert.Empty(Directory.GetFiles(to));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{what}: took {clock.Elapsed} (was the file read?)");
        }
    }

    [Fact]
    public void TheHelpNamesNoPathOfThisRepositorysTestSetUpAndQuietIsQuiet()
    {
        var (code, help, _) = RunCli("explain", "--help");
        Assert.Equal(0, code);
        Assert.DoesNotContain("../shared", help);
        Assert.Contains("$NATIVEIG_EXAMPLES", help);
    }

    [Fact]
    public void TheToolRollsForwardToANewerMajorRuntime()
    {
        var config = Path.Combine(AppContext.BaseDirectory, "nativeig.runtimeconfig.json");
        using var json = JsonDocument.Parse(File.ReadAllText(config));
        Assert.Equal("Major", json.RootElement.GetProperty("runtimeOptions").GetProperty("rollForward").GetString());
    }

    [Fact]
    public void PackOutputAndLabelPartsAreIgnoredByGit()
    {
        var ignored = File.ReadAllLines(Path.Combine(Root, ".gitignore"));
        Assert.Contains("/artifacts/", ignored);
        Assert.Contains("/weights/synset_words.txt.part", ignored);
    }
}

[CollectionDefinition("labels-url", DisableParallelization = true)]
public class LabelsUrlCollection;
