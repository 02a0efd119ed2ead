using System.Text.RegularExpressions;

namespace ServerlessBackup.Tests;

/// <summary>docs/engine-map.md says which folder of the engine may use which; the code must agree, and the allowed graph must have no cycle.</summary>
public sealed partial class EngineMapTests
{
    private static string Root()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ServerlessBackup.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (ServerlessBackup.sln) is not above the test's directory.");
    }

    [GeneratedRegex(@"^\| `(\w+)` \| .* \| (.+) \|$")]
    private static partial Regex Row();

    private static Dictionary<string, HashSet<string>> Allowed()
    {
        var allowed = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path.Combine(Root(), "docs", "engine-map.md")))
        {
            if (Row().Match(line) is { Success: true } m)
            {
                var uses = m.Groups[2].Value.Trim();
                allowed[m.Groups[1].Value] = uses is "–" or "everything" ? [] : uses.Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                if (uses == "everything")
                {
                    allowed[m.Groups[1].Value].Add("*");
                }
            }
        }

        return allowed;
    }

    [Fact]
    public void Every_folder_of_the_engine_uses_only_what_the_map_allows()
    {
        var allowed = Allowed();
        var core = Path.Combine(Root(), "src", "ServerlessBackup.Core");
        var folders = Directory.GetDirectories(core).Select(Path.GetFileName).Where(f => f is not ("bin" or "obj")).ToList();
        Assert.Equal(folders.Order(StringComparer.Ordinal), allowed.Keys.Order(StringComparer.Ordinal));
        var names = string.Join('|', folders);
        var reference = new Regex($@"(?:using ServerlessBackup\.({names})\b|\bServerlessBackup\.({names})\.|(?<![\w.""])({names})\.[A-Z])");
        var violations = new List<string>();
        foreach (var folder in folders)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(core, folder!), "*.cs", SearchOption.AllDirectories))
            {
                var code = string.Join('\n', File.ReadAllLines(file).Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
                foreach (Match m in reference.Matches(code))
                {
                    var used = m.Groups.Cast<Group>().Skip(1).First(g => g.Success).Value;
                    if (used != folder && !allowed[folder!].Contains(used) && !allowed[folder!].Contains("*"))
                    {
                        violations.Add($"{folder}/{Path.GetFileName(file)} uses {used}");
                    }
                }
            }
        }

        Assert.True(violations.Count == 0, "Not allowed by docs/engine-map.md:\n" + string.Join('\n', violations.Distinct()));
    }

    [Fact]
    public void The_map_has_no_cycle()
    {
        var allowed = Allowed();
        var done = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string>();

        void Visit(string folder)
        {
            if (done.Contains(folder))
            {
                return;
            }

            Assert.False(path.Contains(folder), "A cycle: " + string.Join(" → ", path.SkipWhile(p => p != folder).Append(folder)));
            path.Add(folder);
            foreach (var next in allowed[folder].Where(n => n != "*"))
            {
                Visit(next);
            }

            path.RemoveAt(path.Count - 1);
            done.Add(folder);
        }

        foreach (var folder in allowed.Keys)
        {
            Visit(folder);
        }
    }
}
