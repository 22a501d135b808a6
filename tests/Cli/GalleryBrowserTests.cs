using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;
using static NativeIg.Tests.TestUtil;

namespace NativeIg.Tests;

/// <summary>A test that needs Debian's Chromium (CI installs it) and ../shared: skipped, with the reason, where either is absent.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string Path = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!File.Exists(Path)) Skip = $"{Path} is not installed (apt-get install chromium; .ci/run does).";
        else if (TestUtil.SharedDir is null) Skip = SharedData.MissingReason; // the gallery is of ../shared's photos
    }
}

/// <summary>The gallery in a real headless browser: every card's picture loads, and a screenshot is kept.</summary>
[Collection("model")]
public class GalleryBrowserTests(ITestOutputHelper output)
{
    private static string Chromium(string url, params string[] arguments)
    {
        var start = new ProcessStartInfo(ChromiumFactAttribute.Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--virtual-time-budget=10000" }.Concat(arguments).Append(url))
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120))) { process.Kill(true); throw new TimeoutException("chromium did not finish in 2 minutes"); }
        Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    [ChromiumFact]
    public void EveryCardsPictureLoadsInABrowser()
    {
        var photos = Path.Combine(TempDir(), "photos");
        Directory.CreateDirectory(photos);
        foreach (var file in Directory.GetFiles(Shared("images/ig-paper"), "*.jpg").Order(StringComparer.Ordinal).Take(4))
            File.Copy(file, Path.Combine(photos, Path.GetFileName(file)));
        File.Copy(Shared("images/city.jpg"), Path.Combine(photos, "city with spaces.jpg")); // a name that needs escaping in a URL
        var run = TempDir();
        Assert.Equal(0, RunCli(["explain", photos, "-o", run, "-m", "4", "-b", "5", "-q", .. ModelArguments]).Code);

        var url = new Uri(Path.Combine(run, "index.html")).AbsoluteUri;
        var dom = Chromium(url, "--dump-dom");
        int cards = Regex.Matches(dom, "class=\"card[ \"]").Count;
        Assert.Equal(5, cards);
        Assert.Equal(cards, Regex.Matches(dom, "data-loaded=\"1\"").Count);
        Assert.DoesNotContain("data-broken", dom);

        var screenshot = Path.Combine(run, "gallery.png");
        Chromium(url, $"--screenshot={screenshot}", "--window-size=1280,900", "--hide-scrollbars");
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is empty");
        output.WriteLine($"gallery screenshot: {screenshot}");
    }
}
