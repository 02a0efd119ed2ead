using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace ServerlessBackup.Tests.Infrastructure;

/// <summary>The Bicep CLI from its NuGet package, run on the repository's infra/.</summary>
internal static class Bicep
{
    public static string Cli
    {
        get
        {
            var path = typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCli").Value!;
            Assert.True(File.Exists(path), $"The Bicep CLI is not at {path}: the test project's PackageDownload of Azure.Bicep.CommandLine.linux-x64 did not restore.");
            if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute))
            {
                // NuGet does not keep file modes when it extracts a package.
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }

            return path;
        }
    }

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ServerlessBackup.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("The repository root (ServerlessBackup.sln) is not above the test assembly.");
        }
    }

    public static string Infra => Path.Combine(RepositoryRoot, "infra");

    /// <summary>Runs the CLI; its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo(Cli) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        // No telemetry, no update checks: the build machine has no internet.
        start.Environment["BICEP_TELEMETRY_ENABLED"] = "false";
        start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    /// <summary>A copy of infra/ in a temporary directory (tests add parameter files to it).</summary>
    public static string CopyInfra()
    {
        var target = Directory.CreateTempSubdirectory("sbk-infra-").FullName;
        foreach (var file in Directory.EnumerateFiles(Infra, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Infra, file);
            if (relative.EndsWith(".json", StringComparison.Ordinal) && relative != "bicepconfig.json")
            {
                continue; // build output or snapshots someone left behind
            }

            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(target, relative))!);
            File.Copy(file, Path.Combine(target, relative));
        }

        return target;
    }

    /// <summary>
    /// What a deployment with <paramref name="parameters"/> (bicepparam lines after <c>using</c>)
    /// would create: every resource, modules flattened, parameters substituted; values only known
    /// during the deployment stay ARM expressions.
    /// </summary>
    public static async Task<JsonElement> SnapshotAsync(string parameters)
    {
        var dir = CopyInfra();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "test.bicepparam"), "using 'main.bicep'\n" + parameters);
            var (code, output) = await RunAsync(dir, "snapshot", "test.bicepparam", "--mode", "overwrite",
                "--subscription-id", "00000000-0000-0000-0000-000000000042", "--resource-group", "rg-test", "--location", "westeurope");
            Assert.True(code == 0, output);
            using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "test.snapshot.json")));
            return json.RootElement.Clone();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
