using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace ServerlessBackup.Storage.Azure;

/// <summary>
/// A small client of one blob container, speaking the Blob REST API through Azure.Core's
/// <see cref="HttpPipeline"/> (its retries, logging, transport and authentication). Every failure
/// is a <see cref="RequestFailedException"/>; responses the caller expects (404 on a read, 409
/// on a create-only write) are returned as values instead.
/// </summary>
public sealed class BlobStoreClient
{
    private const string StorageScope = "https://storage.azure.com/.default";
    private readonly HttpPipeline pipeline;
    private readonly Uri containerUri;
    private readonly string? sas;

    /// <summary>A client authenticated by a connection string (account key or SAS).</summary>
    public BlobStoreClient(BlobConnectionString connectionString, string containerName, BlobStoreClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        Options = options ?? new BlobStoreClientOptions();
        containerUri = ContainerUri(connectionString.BlobEndpoint, containerName);
        sas = connectionString.SharedAccessSignature;
        pipeline = connectionString.AccountKey is { } key
            ? HttpPipelineBuilder.Build(Options, new SharedKeyCredentialPolicy(connectionString.AccountName!, key))
            : HttpPipelineBuilder.Build(Options);
    }

    /// <summary>A client authenticated by Entra ID (e.g. <c>DefaultAzureCredential</c>, a managed identity).</summary>
    public BlobStoreClient(Uri serviceUri, string containerName, TokenCredential credential, BlobStoreClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(serviceUri);
        ArgumentNullException.ThrowIfNull(credential);
        Options = options ?? new BlobStoreClientOptions();
        containerUri = ContainerUri(serviceUri, containerName);
        pipeline = HttpPipelineBuilder.Build(Options, new BearerTokenAuthenticationPolicy(credential, StorageScope));
    }

    /// <summary>The options the client was made with.</summary>
    public BlobStoreClientOptions Options { get; }

    /// <summary>The container's URI (no credentials).</summary>
    public Uri ContainerUri() => containerUri;

    /// <summary>Creates the container; false if it already existed.</summary>
    public async Task<bool> CreateContainerIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, null, "restype=container");
        var response = await SendAsync(message, cancellationToken, 201, 409).ConfigureAwait(false);
        return response.Status == 201;
    }

    /// <summary>Stages one block of a block blob (Put Block).</summary>
    public async Task StageBlockAsync(string blobName, string blockId, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, blobName, "comp=block&blockid=" + Uri.EscapeDataString(blockId));
        message.Request.Content = RequestContent.Create(content);
        await SendAsync(message, cancellationToken, 201).ConfigureAwait(false);
    }

    /// <summary>Commits staged blocks as the blob's content (Put Block List).</summary>
    /// <returns>False if <paramref name="createOnly"/> and the blob already exists.</returns>
    public async Task<bool> CommitBlockListAsync(string blobName, IReadOnlyList<string> blockIds, IReadOnlyDictionary<string, string>? metadata, bool createOnly, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(blockIds);
        var xml = new XElement("BlockList", blockIds.Select(id => new XElement("Latest", id)));
        var body = Encoding.UTF8.GetBytes("<?xml version=\"1.0\" encoding=\"utf-8\"?>" + xml.ToString(SaveOptions.DisableFormatting));
        using var message = Create(RequestMethod.Put, blobName, "comp=blocklist");
        message.Request.Content = RequestContent.Create(body);
        message.Request.Headers.SetValue("Content-Type", "application/xml");
        AddMetadata(message.Request, metadata);
        if (createOnly)
        {
            message.Request.Headers.SetValue("If-None-Match", "*");
        }

        var response = await SendAsync(message, cancellationToken, 201, 409, 412).ConfigureAwait(false);
        return response.Status == 201;
    }

    /// <summary>Uploads a whole small blob (Put Blob).</summary>
    /// <returns>False if <paramref name="createOnly"/> and the blob already exists.</returns>
    public async Task<bool> UploadAsync(string blobName, ReadOnlyMemory<byte> content, IReadOnlyDictionary<string, string>? metadata, bool createOnly, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, blobName, null);
        message.Request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
        message.Request.Content = RequestContent.Create(content);
        AddMetadata(message.Request, metadata);
        if (createOnly)
        {
            message.Request.Headers.SetValue("If-None-Match", "*");
        }

        var response = await SendAsync(message, cancellationToken, 201, 409, 412).ConfigureAwait(false);
        return response.Status == 201;
    }

    /// <summary>
    /// Reads the bytes [offset, offset + destination.Length) of a blob into <paramref name="destination"/>; returns how
    /// many were read. <paramref name="ifMatch"/>, when given, is the ETag the blob must still have, so that the ranges of
    /// one download all come from one version of the blob.
    /// </summary>
    public async Task<int> DownloadRangeAsync(string blobName, long offset, Memory<byte> destination, string? ifMatch, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Get, blobName, null);
        message.Request.Headers.SetValue("x-ms-range", string.Create(CultureInfo.InvariantCulture, $"bytes={offset}-{offset + destination.Length - 1}"));
        if (ifMatch is not null)
        {
            message.Request.Headers.SetValue("If-Match", ifMatch);
        }

        message.BufferResponse = false;
        await SendAsync(message, cancellationToken, 200, 206).ConfigureAwait(false);
        await using var body = message.ExtractResponseContent() ?? Stream.Null;
        return await body.ReadAtLeastAsync(destination, destination.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The blob's properties and metadata, or null if it does not exist.</summary>
    public async Task<BlobItem?> GetPropertiesAsync(string blobName, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Head, blobName, null);
        var response = await SendAsync(message, cancellationToken, 200, 404).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return null;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var header in response.Headers)
        {
            if (header.Name.StartsWith("x-ms-meta-", StringComparison.OrdinalIgnoreCase))
            {
                metadata[header.Name["x-ms-meta-".Length..].ToLowerInvariant()] = header.Value;
            }
        }

        response.Headers.TryGetValue("Last-Modified", out var modified);
        return new BlobItem(blobName, response.Headers.ContentLength ?? 0, ParseDate(modified), response.Headers.ETag?.ToString() ?? string.Empty, metadata);
    }

    /// <summary>One page of blobs under <paramref name="prefix"/> (List Blobs), with metadata, and the marker of the next page.</summary>
    public async Task<(IReadOnlyList<BlobItem> Items, string? NextMarker)> ListBlobsPageAsync(string prefix, string? marker, int pageSize = 5000, CancellationToken cancellationToken = default)
    {
        var query = "restype=container&comp=list&include=metadata&maxresults=" + pageSize.ToString(CultureInfo.InvariantCulture);
        if (prefix.Length > 0)
        {
            query += "&prefix=" + Uri.EscapeDataString(prefix);
        }

        if (!string.IsNullOrEmpty(marker))
        {
            query += "&marker=" + Uri.EscapeDataString(marker);
        }

        using var message = Create(RequestMethod.Get, null, query);
        var response = await SendAsync(message, cancellationToken, 200).ConfigureAwait(false);
        var document = XDocument.Load(response.ContentStream!);
        var items = new List<BlobItem>();
        foreach (var blob in document.Root!.Element("Blobs")?.Elements("Blob") ?? [])
        {
            var properties = blob.Element("Properties");
            var metadata = blob.Element("Metadata")?.Elements().ToDictionary(e => e.Name.LocalName.ToLowerInvariant(), e => e.Value, StringComparer.Ordinal)
                           ?? new Dictionary<string, string>(StringComparer.Ordinal);
            items.Add(new BlobItem(
                blob.Element("Name")!.Value,
                long.Parse(properties?.Element("Content-Length")?.Value ?? "0", CultureInfo.InvariantCulture),
                ParseDate(properties?.Element("Last-Modified")?.Value),
                properties?.Element("Etag")?.Value ?? string.Empty,
                metadata));
        }

        var next = document.Root.Element("NextMarker")?.Value;
        return (items, string.IsNullOrEmpty(next) ? null : next);
    }

    /// <summary>Deletes a blob; false if it did not exist.</summary>
    public async Task<bool> DeleteAsync(string blobName, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, blobName, null);
        var response = await SendAsync(message, cancellationToken, 202, 404).ConfigureAwait(false);
        return response.Status == 202;
    }

    /// <summary>Acquires a lease; returns its id, or null if another holder has one (409).</summary>
    /// <exception cref="RequestFailedException">Status 404 when the blob does not exist.</exception>
    public async Task<string?> AcquireLeaseAsync(string blobName, int durationSeconds, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, blobName, "comp=lease");
        message.Request.Headers.SetValue("x-ms-lease-action", "acquire");
        message.Request.Headers.SetValue("x-ms-lease-duration", durationSeconds.ToString(CultureInfo.InvariantCulture));
        message.Request.Headers.SetValue("x-ms-proposed-lease-id", Guid.NewGuid().ToString());
        var response = await SendAsync(message, cancellationToken, 201, 409).ConfigureAwait(false);
        return response.Status == 201 && response.Headers.TryGetValue("x-ms-lease-id", out var id) ? id : null;
    }

    /// <summary>Renews or releases a lease (<paramref name="action"/> is "renew" or "release").</summary>
    public async Task ChangeLeaseAsync(string blobName, string leaseId, string action, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, blobName, "comp=lease");
        message.Request.Headers.SetValue("x-ms-lease-action", action);
        message.Request.Headers.SetValue("x-ms-lease-id", leaseId);
        await SendAsync(message, cancellationToken, 200).ConfigureAwait(false);
    }

    private HttpMessage Create(RequestMethod method, string? blobName, string? query)
    {
        var message = pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        var uri = new StringBuilder(containerUri.AbsoluteUri.TrimEnd('/'));
        if (blobName is not null)
        {
            uri.Append('/').Append(string.Join('/', blobName.Split('/').Select(Uri.EscapeDataString)));
        }

        var queryParts = new[] { query, sas }.Where(q => !string.IsNullOrEmpty(q));
        var fullQuery = string.Join('&', queryParts);
        if (fullQuery.Length > 0)
        {
            uri.Append('?').Append(fullQuery);
        }

        request.Uri.Reset(new Uri(uri.ToString()));
        request.Headers.SetValue("x-ms-version", Options.ServiceVersion);
        return message;
    }

    private async Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken, params int[] expected)
    {
        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        var response = message.Response;
        if (Array.IndexOf(expected, response.Status) < 0)
        {
            throw new RequestFailedException(response);
        }

        return response;
    }

    private static void AddMetadata(Request request, IReadOnlyDictionary<string, string>? metadata)
    {
        if (metadata is null)
        {
            return;
        }

        foreach (var (name, value) in metadata)
        {
            request.Headers.SetValue("x-ms-meta-" + name, value);
        }
    }

    private static DateTimeOffset ParseDate(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : DateTimeOffset.MinValue;

    private static Uri ContainerUri(Uri endpoint, string containerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(containerName);
        if (containerName.Length is < 3 or > 63 || !containerName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
            || containerName.StartsWith('-') || containerName.EndsWith('-') || containerName.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{containerName}' is not a valid container name: 3-63 lower-case letters, digits and single hyphens.", nameof(containerName));
        }

        return new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + containerName);
    }
}
