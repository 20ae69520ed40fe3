import Foundation

/// The static files the service serves without a token: the web console (`/`, `/console.js`, `/console.css`) and
/// the OpenAPI document (`/openapi.json`). They hold no data; every call they make to `/v1/` carries the token
/// the user typed in.
enum ConsoleAssets {
    /// Path → (resource file, content type).
    static let files: [String: (name: String, type: String)] = [
        "/": ("console.html", "text/html; charset=utf-8"),
        "/console.js": ("console.js", "text/javascript; charset=utf-8"),
        "/console.css": ("console.css", "text/css; charset=utf-8"),
        "/openapi.json": ("openapi.json", "application/json"),
    ]

    /// The files' bytes, read once.
    static let contents: [String: Data] = {
        var contents: [String: Data] = [:]
        for (path, file) in files {
            let parts = file.name.split(separator: ".")
            if let url = Bundle.module.url(forResource: String(parts[0]), withExtension: String(parts[1]), subdirectory: "Resources"),
               let data = try? Data(contentsOf: url) {
                contents[path] = data
            }
        }
        return contents
    }()

    /// The response for a static file, or nil when `path` is not one.
    static func response(method: String, path: String) -> ServiceResponse? {
        guard method == "GET", let file = files[path] else { return nil }
        guard let data = contents[path] else {
            return .error(500, code: "internal", "the file \(file.name) is missing from the installation", exitCode: 1)
        }
        var response = ServiceResponse(status: 200, contentType: file.type, body: data)
        response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
    }
}
