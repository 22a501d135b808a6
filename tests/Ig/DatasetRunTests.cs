using System.Text.RegularExpressions;
using NativeIg.Ig;
using Xunit;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>
/// `explain` over a folder: one report line per image (errors included), a gallery whose links all exist,
/// a dataset view; a stopped run resumes without recomputing; shards run apart and merged equal one run.
/// </summary>
[Collection("model")]
public class DatasetRunTests
{
    private static readonly string[] Fast = ["-m", "4", "-b", "5", "-q"];

    /// <summary>12 images: 10 photos of the IG paper, the fireboat in a subfolder, one damaged JPEG; and a text file that is not an image.</summary>
    private static string TwelveImages()
    {
        var dir = Path.Combine(TempDir(), "photos");
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        foreach (var file in Directory.GetFiles(Shared("images/ig-paper"), "*.jpg").Order(StringComparer.Ordinal).Take(10))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        File.Copy(Shared("images/fireboat.jpg"), Path.Combine(dir, "sub", "fireboat.jpg"));
        File.WriteAllBytes(Path.Combine(dir, "damaged.jpg"), File.ReadAllBytes(Shared("images/fireboat.jpg"))[..400]);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "not an image");
        return dir;
    }

    /// <summary>The report without the wall times (everything else is deterministic).</summary>
    private static string[] Report(string run) =>
        File.ReadAllLines(Path.Combine(run, "report.jsonl")).Select(l => Regex.Replace(l, "\"(ig_)?seconds\":[^,]*,", "")).ToArray();

    [SharedFact]
    public void AFolderGivesAReportAGalleryAndADatasetView()
    {
        var photos = TwelveImages();
        var run = TempDir();
        var (code, output, error) = RunCli(["explain", photos, "-o", run, .. Fast, .. ModelArguments]);
        Assert.Equal(1, code); // one image failed; the others are done
        Assert.Equal("", output + error); // --quiet
        var report = Report(run);
        Assert.Equal(12, report.Length);
        Assert.Single(report, l => l.Contains("\"error\"") && l.Contains("damaged.jpg"));
        Assert.Contains(report, l => l.Contains("\"image\":\"photos/sub/fireboat.jpg\"") && l.Contains("\"label\":\"fireboat\""));
        Assert.DoesNotContain(report, l => l.Contains("notes.txt"));
        var records = report.Select(l => ExplanationRecord.FromJsonLine(l, "report")).ToArray();
        Assert.All(records.Where(r => r.Error is null), r => Assert.Equal(r.Sum - (r.FInput - r.FBaseline), r.Delta, 9));

        // The gallery: well-formed enough to parse, one card per image, and every picture it links to exists.
        var html = File.ReadAllText(Path.Combine(run, "index.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Equal(12, Regex.Matches(html, "class=\"card[ \"]").Count);
        var links = Regex.Matches(html, "(?:src|href)=\"([^\"]+)\"").Select(m => Uri.UnescapeDataString(m.Groups[1].Value)).ToArray();
        Assert.Equal(2 * 11, links.Length);
        Assert.All(links, link => Assert.True(File.Exists(Path.Combine(run, link)), $"the gallery links to {link}, which does not exist"));
        Assert.DoesNotContain("http", string.Join(' ', links)); // no external assets

        // The dataset view: one mean mask per predicted class, and a table that counts every explained image.
        var csv = File.ReadAllLines(Path.Combine(run, "dataset", "summary.csv"));
        Assert.Equal("class,label,images,mean_confidence,mean_relative_abs_delta,mean_steps,mean_mask", csv[0]);
        Assert.Equal(11, csv.Skip(1).Sum(l => int.Parse(l.Split(',')[^5])));
        Assert.All(csv.Skip(1), l => Assert.True(File.Exists(Path.Combine(run, "dataset", l.Split(',')[^1]))));
        Assert.Contains("\"mean_mask\"", File.ReadAllText(Path.Combine(run, "dataset", "summary.json")));
    }

    [SharedFact]
    public void ARunKilledWithSigtermResumesWithoutRecomputingAndEndsWithTheSameReport()
    {
        var photos = TwelveImages();
        var whole = TempDir();
        Assert.Equal(1, RunCli(["explain", photos, "-o", whole, .. Fast, .. ModelArguments]).Code);

        // The tool as its own process, sent SIGTERM (what a scheduler sends) once three images are done.
        var resumed = TempDir();
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { typeof(NativeIg.Cli.Program).Assembly.Location, "explain", photos, "-o", resumed, "-m", "4", "-b", "5" }.Concat(ModelArguments))
            start.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        int lines = 0;
        while (process.StandardOutput.ReadLine() is { } line)
            if (line.StartsWith('[') && ++lines == 3)
                System.Diagnostics.Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(120)), "the tool did not stop after SIGTERM");
        Assert.True(process.ExitCode == NativeIg.Cli.Program.Terminated, $"exit {process.ExitCode}: {stderr.Result}");
        Assert.Contains("interrupted", stderr.Result);
        var killed = Report(resumed);
        Assert.InRange(killed.Length, 3, 11); // what was done, written on the way out; the image in flight is lost
        int kept = killed.Count(l => !l.Contains("\"error\""));

        var (again, output, _) = RunCli(["explain", photos, "-o", resumed, "-m", "4", "-b", "5", .. ModelArguments]);
        Assert.Equal(1, again);
        Assert.Equal(kept, output.Split('\n').Count(l => l.Contains("(done before, kept)"))); // nothing done is recomputed
        Assert.Equal(Report(whole), Report(resumed));
    }

    [SharedFact]
    public void ThreeShardsMergedEqualOneRun()
    {
        var photos = TwelveImages();
        var whole = TempDir();
        RunCli(["explain", photos, "-o", whole, .. Fast, .. ModelArguments]);
        var shards = Enumerable.Range(0, 3).Select(k =>
        {
            var dir = TempDir();
            RunCli(["explain", photos, "-o", dir, "--shard", $"{k}/3", .. Fast, .. ModelArguments]);
            return dir;
        }).ToArray();
        var counts = shards.Select(d => Report(d).Length).ToArray();
        Assert.Equal(12, counts.Sum());
        Assert.All(counts, c => Assert.InRange(c, 1, 10)); // a real split
        var merged = TempDir();
        var (code, output, _) = RunCli(["merge", .. shards, "--out", merged]);
        Assert.Equal(0, code);
        Assert.Contains("12 images from 3 folders", output);
        Assert.Equal(Report(whole), Report(merged));
        Assert.Equal(File.ReadAllText(Path.Combine(whole, "dataset", "summary.csv")), File.ReadAllText(Path.Combine(merged, "dataset", "summary.csv")));
        // the same files, byte for byte: every image's attributions and path, and the dataset's mean masks
        var wholeFiles = Directory.GetFiles(Path.Combine(whole, "photos"), "*.npy", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(whole, f)).Order().ToArray();
        var shardFiles = shards.SelectMany(d => Directory.GetFiles(Path.Combine(d, "photos"), "*.npy", SearchOption.AllDirectories).Select(f => (Dir: d, Name: Path.GetRelativePath(d, f)))).OrderBy(f => f.Name).ToArray();
        Assert.Equal(wholeFiles, shardFiles.Select(f => f.Name));
        Assert.All(shardFiles, f => Assert.Equal(File.ReadAllBytes(Path.Combine(whole, f.Name)), File.ReadAllBytes(Path.Combine(f.Dir, f.Name))));
        Assert.All(Directory.GetFiles(Path.Combine(whole, "dataset"), "*.png"), f =>
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(merged, "dataset", Path.GetFileName(f)))));
    }

    [SharedFact]
    public void TopKExplainsEachImagesKMostProbableClasses()
    {
        var photos = Path.Combine(TempDir(), "two");
        Directory.CreateDirectory(photos);
        File.Copy(Shared("images/fireboat.jpg"), Path.Combine(photos, "fireboat.jpg"));
        File.Copy(Shared("images/giant_panda.jpg"), Path.Combine(photos, "panda.jpg"));
        var run = TempDir();
        Assert.Equal(0, RunCli(["explain", photos, "-o", run, "-t", "top:2", .. Fast, .. ModelArguments]).Code);
        var records = Report(run).Select(l => ExplanationRecord.FromJsonLine(l, "report")).ToArray();
        Assert.Equal(["fireboat", "pier", "giant panda", "teddy"], records.Select(r => r.Label)); // each image's two most probable classes
        Assert.Equal([1, 2, 1, 2], records.Select(r => r.Rank));
        Assert.All(records, r => Assert.Equal(r.Top[r.Rank - 1].Index, r.Target));
        Assert.True(File.Exists(Path.Combine(run, "two", "fireboat", "top-2", "figure.png")));
        // the dataset view counts each image once
        Assert.Equal(2, File.ReadAllLines(Path.Combine(run, "dataset", "summary.csv")).Skip(1).Sum(l => int.Parse(l.Split(',')[^5])));
        Assert.Equal(2, RunCli(["explain", photos, "-t", "top:11", .. ModelArguments]).Code);
    }

    [SharedTheory]
    [InlineData("0/3", 0, 3)]
    [InlineData("2/3", 2, 3)]
    public void ShardsParseAndSplitByName(string text, int index, int count)
    {
        Assert.Equal(new Shard(index, count), Shard.Parse(text));
        var names = Enumerable.Range(0, 300).Select(i => $"photos/{i}.jpg").ToArray();
        Assert.Equal(names.Length, Enumerable.Range(0, 3).Sum(k => names.Count(new Shard(k, 3).Owns)));
        Assert.Equal(names.Where(new Shard(index, count).Owns), names.Reverse().Where(new Shard(index, count).Owns).Reverse()); // order does not matter
    }

    [SharedTheory]
    [InlineData("3/3")]
    [InlineData("-1/3")]
    [InlineData("1/0")]
    [InlineData("a/b")]
    [InlineData("1")]
    public void ABadShardIsAUsageError(string text)
    {
        Assert.Throws<ArgumentException>(() => Shard.Parse(text));
        var (code, _, error) = RunCli(["explain", "a.jpg", "b.jpg", "--shard", text]);
        Assert.Equal(2, code);
        Assert.StartsWith("nativeig:", error);
    }

    [SharedFact]
    public void SchedulersNameTheShardInTheEnvironment()
    {
        Dictionary<string, string> kubernetes = new() { ["JOB_COMPLETION_INDEX"] = "4" };
        Assert.Equal(new Shard(4, 8), Shard.FromEnvironment(8, kubernetes.GetValueOrDefault));
        Assert.Throws<ArgumentException>(() => Shard.FromEnvironment(null, kubernetes.GetValueOrDefault)); // N must be given
        Dictionary<string, string> slurm = new() { ["SLURM_ARRAY_TASK_ID"] = "7", ["SLURM_ARRAY_TASK_COUNT"] = "4", ["SLURM_ARRAY_TASK_MIN"] = "5" };
        Assert.Equal(new Shard(2, 4), Shard.FromEnvironment(null, slurm.GetValueOrDefault));
        Assert.Null(Shard.FromEnvironment(null, new Dictionary<string, string>().GetValueOrDefault));
    }
}
