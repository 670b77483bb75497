
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'ferry' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'ferry'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'ferry' {
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file (see each command''s --journal)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal')
            [CompletionResult]::new('--job-limit', '--job-limit', [CompletionResultType]::ParameterName, 'At most this many unacknowledged jobs')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How uploads show their progress')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour on stderr')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append timestamped lines to this file')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'JSON Lines on stdout')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Nothing on success')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Nothing on success')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Scan folders, then upload what is new: the one-liner for cron and CI')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Sync, then keep watching the folders and upload new files once they settle')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Walk folders, hash media files and queue one upload job per new content (no network)')
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload the queued jobs (pending, or interrupted and resumable)')
            [CompletionResult]::new('jobs', 'jobs', [CompletionResultType]::ParameterValue, 'List jobs, optionally by state or by the action that applies to them')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Count jobs and bytes in each state')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Put failed jobs back in the queue')
            [CompletionResult]::new('ack', 'ack', [CompletionResultType]::ParameterValue, 'Acknowledge finished jobs: take failures off the list and free room under the job limit')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel jobs that have not finished')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that succeeded jobs'' files are at their destination with the same content')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT, BITS)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout, e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ferry;sync' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol for a URL destination; auto asks the server with OPTIONS')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'Descend at most this many folders below each root')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)')
            [CompletionResult]::new('--min-size', '--min-size', [CompletionResultType]::ParameterName, 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Leave out files larger than this (e.g. 4G)')
            [CompletionResult]::new('--min-age', '--min-age', [CompletionResultType]::ParameterName, 'Leave out files modified less than this long ago, still being written (e.g. 10m)')
            [CompletionResult]::new('--layout', '--layout', [CompletionResultType]::ParameterName, 'Where files land at the destination, by capture date and name, e.g. ''{year}/{month}/{name}'' (tokens: {year} {month} {day} {name} {stem} {ext} {path} {dir}); without it, at their path below the scanned folder')
            [CompletionResult]::new('--layout-undated', '--layout-undated', [CompletionResultType]::ParameterName, 'The layout for files whose only date is their modification time, e.g. ''undated/{path}''; without it they follow --layout by that date')
            [CompletionResult]::new('--video-clock', '--video-clock', [CompletionResultType]::ParameterName, 'How a video''s own clock (QuickTime mvhd) is read for its capture date: utc, as the standard says, or local, for cameras that write local time there')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Upload this many jobs at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Upload this many jobs at once')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)')
            [CompletionResult]::new('--chunk-size', '--chunk-size', [CompletionResultType]::ParameterName, 'Send at most this much per request (default: the whole file, or the server''s limit)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'End a request when no byte has moved for this long, and retry')
            [CompletionResult]::new('--ietf-version', '--ietf-version', [CompletionResultType]::ParameterName, 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)')
            [CompletionResult]::new('--put-method', '--put-method', [CompletionResultType]::ParameterName, 'Method for the put protocol')
            [CompletionResult]::new('--part-concurrency', '--part-concurrency', [CompletionResultType]::ParameterName, 'S3: send this many parts of one file at once')
            [CompletionResult]::new('--bwlimit', '--bwlimit', [CompletionResultType]::ParameterName, 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run')
            [CompletionResult]::new('--stop-at', '--stop-at', [CompletionResultType]::ParameterName, 'Like --max-duration, at this local time of day (HH:MM; tomorrow''s if today''s has passed)')
            [CompletionResult]::new('--cutoff-mode', '--cutoff-mode', [CompletionResultType]::ParameterName, 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish')
            [CompletionResult]::new('--move-to', '--move-to', [CompletionResultType]::ParameterName, 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read a bearer token from this environment variable (sent as Authorization; never recorded)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Without bars, print a progress line this often (e.g. 30s, 5m)')
            [CompletionResult]::new('--failed-list', '--failed-list', [CompletionResultType]::ParameterName, 'At the end, write the paths of the listed failed jobs to this file, one per line')
            [CompletionResult]::new('--job-limit', '--job-limit', [CompletionResultType]::ParameterName, 'At most this many jobs may be unacknowledged; scans stop there')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How the work shows its progress: bars at a terminal, else lines')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append plain timestamped lines to this file, whatever the terminal shows')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Follow symbolic links (loops are detected and reported)')
            [CompletionResult]::new('--follow-links', '--follow-links', [CompletionResultType]::ParameterName, 'Follow symbolic links (loops are detected and reported)')
            [CompletionResult]::new('--hidden', '--hidden', [CompletionResultType]::ParameterName, 'Include hidden files and folders (names starting with a dot)')
            [CompletionResult]::new('--all-files', '--all-files', [CompletionResultType]::ParameterName, 'Take every file, not only images, videos and audio')
            [CompletionResult]::new('--sidecars', '--sidecars', [CompletionResultType]::ParameterName, 'Also take sidecar files (XMP, AAE, THM) with no photo or video of their name; those with one come with it')
            [CompletionResult]::new('--no-default-excludes', '--no-default-excludes', [CompletionResultType]::ParameterName, 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)')
            [CompletionResult]::new('--rehash', '--rehash', [CompletionResultType]::ParameterName, 'Read and hash every file, even those unchanged since the last scan')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Say what would be queued and write nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be queued and write nothing')
            [CompletionResult]::new('--overwrite', '--overwrite', [CompletionResultType]::ParameterName, 'S3: replace an object that holds different content (by default the job fails)')
            [CompletionResult]::new('--delete-after', '--delete-after', [CompletionResultType]::ParameterName, 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)')
            [CompletionResult]::new('--no-auto-ack', '--no-auto-ack', [CompletionResultType]::ParameterName, 'Leave succeeded jobs unacknowledged, for scripts that read their responses first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;watch' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol for a URL destination; auto asks the server with OPTIONS')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'Descend at most this many folders below each root')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)')
            [CompletionResult]::new('--min-size', '--min-size', [CompletionResultType]::ParameterName, 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Leave out files larger than this (e.g. 4G)')
            [CompletionResult]::new('--min-age', '--min-age', [CompletionResultType]::ParameterName, 'Leave out files modified less than this long ago, still being written (e.g. 10m)')
            [CompletionResult]::new('--layout', '--layout', [CompletionResultType]::ParameterName, 'Where files land at the destination, by capture date and name, e.g. ''{year}/{month}/{name}'' (tokens: {year} {month} {day} {name} {stem} {ext} {path} {dir}); without it, at their path below the scanned folder')
            [CompletionResult]::new('--layout-undated', '--layout-undated', [CompletionResultType]::ParameterName, 'The layout for files whose only date is their modification time, e.g. ''undated/{path}''; without it they follow --layout by that date')
            [CompletionResult]::new('--video-clock', '--video-clock', [CompletionResultType]::ParameterName, 'How a video''s own clock (QuickTime mvhd) is read for its capture date: utc, as the standard says, or local, for cameras that write local time there')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Upload this many jobs at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Upload this many jobs at once')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)')
            [CompletionResult]::new('--chunk-size', '--chunk-size', [CompletionResultType]::ParameterName, 'Send at most this much per request (default: the whole file, or the server''s limit)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'End a request when no byte has moved for this long, and retry')
            [CompletionResult]::new('--ietf-version', '--ietf-version', [CompletionResultType]::ParameterName, 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)')
            [CompletionResult]::new('--put-method', '--put-method', [CompletionResultType]::ParameterName, 'Method for the put protocol')
            [CompletionResult]::new('--part-concurrency', '--part-concurrency', [CompletionResultType]::ParameterName, 'S3: send this many parts of one file at once')
            [CompletionResult]::new('--bwlimit', '--bwlimit', [CompletionResultType]::ParameterName, 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run')
            [CompletionResult]::new('--stop-at', '--stop-at', [CompletionResultType]::ParameterName, 'Like --max-duration, at this local time of day (HH:MM; tomorrow''s if today''s has passed)')
            [CompletionResult]::new('--cutoff-mode', '--cutoff-mode', [CompletionResultType]::ParameterName, 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish')
            [CompletionResult]::new('--move-to', '--move-to', [CompletionResultType]::ParameterName, 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read a bearer token from this environment variable (sent as Authorization; never recorded)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Without bars, print a progress line this often (e.g. 30s, 5m)')
            [CompletionResult]::new('--failed-list', '--failed-list', [CompletionResultType]::ParameterName, 'At the end, write the paths of the listed failed jobs to this file, one per line')
            [CompletionResult]::new('--job-limit', '--job-limit', [CompletionResultType]::ParameterName, 'At most this many jobs may be unacknowledged; scans stop there')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How the work shows its progress: bars at a terminal, else lines')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append plain timestamped lines to this file, whatever the terminal shows')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--settle', '--settle', [CompletionResultType]::ParameterName, 'Queue a new or changed file once its size and modification time have held still this long')
            [CompletionResult]::new('--rescan', '--rescan', [CompletionResultType]::ParameterName, 'Scan every folder again this often, to catch what no event announced (0: only after lost events)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Follow symbolic links (loops are detected and reported)')
            [CompletionResult]::new('--follow-links', '--follow-links', [CompletionResultType]::ParameterName, 'Follow symbolic links (loops are detected and reported)')
            [CompletionResult]::new('--hidden', '--hidden', [CompletionResultType]::ParameterName, 'Include hidden files and folders (names starting with a dot)')
            [CompletionResult]::new('--all-files', '--all-files', [CompletionResultType]::ParameterName, 'Take every file, not only images, videos and audio')
            [CompletionResult]::new('--sidecars', '--sidecars', [CompletionResultType]::ParameterName, 'Also take sidecar files (XMP, AAE, THM) with no photo or video of their name; those with one come with it')
            [CompletionResult]::new('--no-default-excludes', '--no-default-excludes', [CompletionResultType]::ParameterName, 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)')
            [CompletionResult]::new('--rehash', '--rehash', [CompletionResultType]::ParameterName, 'Read and hash every file, even those unchanged since the last scan')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Say what would be queued and write nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be queued and write nothing')
            [CompletionResult]::new('--overwrite', '--overwrite', [CompletionResultType]::ParameterName, 'S3: replace an object that holds different content (by default the job fails)')
            [CompletionResult]::new('--delete-after', '--delete-after', [CompletionResultType]::ParameterName, 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)')
            [CompletionResult]::new('--no-auto-ack', '--no-auto-ack', [CompletionResultType]::ParameterName, 'Leave succeeded jobs unacknowledged, for scripts that read their responses first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;scan' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Protocol for a URL destination; auto asks the server with OPTIONS')
            [CompletionResult]::new('--max-depth', '--max-depth', [CompletionResultType]::ParameterName, 'Descend at most this many folders below each root')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)')
            [CompletionResult]::new('--min-size', '--min-size', [CompletionResultType]::ParameterName, 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Leave out files larger than this (e.g. 4G)')
            [CompletionResult]::new('--min-age', '--min-age', [CompletionResultType]::ParameterName, 'Leave out files modified less than this long ago, still being written (e.g. 10m)')
            [CompletionResult]::new('--layout', '--layout', [CompletionResultType]::ParameterName, 'Where files land at the destination, by capture date and name, e.g. ''{year}/{month}/{name}'' (tokens: {year} {month} {day} {name} {stem} {ext} {path} {dir}); without it, at their path below the scanned folder')
            [CompletionResult]::new('--layout-undated', '--layout-undated', [CompletionResultType]::ParameterName, 'The layout for files whose only date is their modification time, e.g. ''undated/{path}''; without it they follow --layout by that date')
            [CompletionResult]::new('--video-clock', '--video-clock', [CompletionResultType]::ParameterName, 'How a video''s own clock (QuickTime mvhd) is read for its capture date: utc, as the standard says, or local, for cameras that write local time there')
            [CompletionResult]::new('--job-limit', '--job-limit', [CompletionResultType]::ParameterName, 'At most this many jobs may be unacknowledged; scans stop there')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How the work shows its progress: bars at a terminal, else lines')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append plain timestamped lines to this file, whatever the terminal shows')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Follow symbolic links (loops are detected and reported)')
            [CompletionResult]::new('--follow-links', '--follow-links', [CompletionResultType]::ParameterName, 'Follow symbolic links (loops are detected and reported)')
            [CompletionResult]::new('--hidden', '--hidden', [CompletionResultType]::ParameterName, 'Include hidden files and folders (names starting with a dot)')
            [CompletionResult]::new('--all-files', '--all-files', [CompletionResultType]::ParameterName, 'Take every file, not only images, videos and audio')
            [CompletionResult]::new('--sidecars', '--sidecars', [CompletionResultType]::ParameterName, 'Also take sidecar files (XMP, AAE, THM) with no photo or video of their name; those with one come with it')
            [CompletionResult]::new('--no-default-excludes', '--no-default-excludes', [CompletionResultType]::ParameterName, 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)')
            [CompletionResult]::new('--rehash', '--rehash', [CompletionResultType]::ParameterName, 'Read and hash every file, even those unchanged since the last scan')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Say what would be queued and write nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Say what would be queued and write nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;upload' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Only the jobs for this destination (a configured name, a URL or a local folder)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Upload this many jobs at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Upload this many jobs at once')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)')
            [CompletionResult]::new('--chunk-size', '--chunk-size', [CompletionResultType]::ParameterName, 'Send at most this much per request (default: the whole file, or the server''s limit)')
            [CompletionResult]::new('--idle-timeout', '--idle-timeout', [CompletionResultType]::ParameterName, 'End a request when no byte has moved for this long, and retry')
            [CompletionResult]::new('--ietf-version', '--ietf-version', [CompletionResultType]::ParameterName, 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)')
            [CompletionResult]::new('--put-method', '--put-method', [CompletionResultType]::ParameterName, 'Method for the put protocol')
            [CompletionResult]::new('--part-concurrency', '--part-concurrency', [CompletionResultType]::ParameterName, 'S3: send this many parts of one file at once')
            [CompletionResult]::new('--bwlimit', '--bwlimit', [CompletionResultType]::ParameterName, 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"')
            [CompletionResult]::new('--max-duration', '--max-duration', [CompletionResultType]::ParameterName, 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run')
            [CompletionResult]::new('--stop-at', '--stop-at', [CompletionResultType]::ParameterName, 'Like --max-duration, at this local time of day (HH:MM; tomorrow''s if today''s has passed)')
            [CompletionResult]::new('--cutoff-mode', '--cutoff-mode', [CompletionResultType]::ParameterName, 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish')
            [CompletionResult]::new('--move-to', '--move-to', [CompletionResultType]::ParameterName, 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read a bearer token from this environment variable (sent as Authorization; never recorded)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)')
            [CompletionResult]::new('--stats', '--stats', [CompletionResultType]::ParameterName, 'Without bars, print a progress line this often (e.g. 30s, 5m)')
            [CompletionResult]::new('--failed-list', '--failed-list', [CompletionResultType]::ParameterName, 'At the end, write the paths of the listed failed jobs to this file, one per line')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How the work shows its progress: bars at a terminal, else lines')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Also append plain timestamped lines to this file, whatever the terminal shows')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--overwrite', '--overwrite', [CompletionResultType]::ParameterName, 'S3: replace an object that holds different content (by default the job fails)')
            [CompletionResult]::new('--delete-after', '--delete-after', [CompletionResultType]::ParameterName, 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)')
            [CompletionResult]::new('--no-auto-ack', '--no-auto-ack', [CompletionResultType]::ParameterName, 'Leave succeeded jobs unacknowledged, for scripts that read their responses first')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Say more: each job as it starts and finishes, what a scan left out and why')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;jobs' {
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Only jobs in this state (repeatable; comma-separated in the variable)')
            [CompletionResult]::new('--action', '--action', [CompletionResultType]::ParameterName, 'Only jobs this action applies to')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Only jobs for this destination (a configured name, a URL or a local folder)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;status' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Only jobs for this destination (a configured name, a URL or a local folder)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--job-limit', '--job-limit', [CompletionResultType]::ParameterName, 'At most this many jobs may be unacknowledged; scans stop there')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;retry' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Send the retried jobs to this destination instead (a configured name, a URL or a local folder)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every failed job that is not acknowledged')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;ack' {
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--failed', '--failed', [CompletionResultType]::ParameterName, 'Every failed job not yet acknowledged')
            [CompletionResult]::new('--succeeded', '--succeeded', [CompletionResultType]::ParameterName, 'Every succeeded job not yet acknowledged')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Every succeeded or failed job not yet acknowledged')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;cancel' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'With --pending, only the jobs for this destination (a configured name, a URL or a local folder)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read a bearer token from this environment variable (sent as Authorization; never recorded)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--pending', '--pending', [CompletionResultType]::ParameterName, 'Every job not yet finished (pending or registered)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;verify' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'Only jobs for this destination (a configured name, a URL or a local folder)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Check this many jobs at once')
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'Check this many jobs at once')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Give up on a file''s check after this many transient failures in a row (connection, 5xx, 429, stalls)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read a bearer token from this environment variable (sent as Authorization; never recorded)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)')
            [CompletionResult]::new('--progress', '--progress', [CompletionResultType]::ParameterName, 'How the work shows its progress: bars at a terminal, else lines')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--requeue', '--requeue', [CompletionResultType]::ParameterName, 'Put jobs whose file is missing or different back in the queue, for the next upload')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; on failure, the errors and the failures list')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;probe' {
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, 'The same as DEST (which wins when both are given), for scripts that set FERRY_TO for sync')
            [CompletionResult]::new('--protocol', '--protocol', [CompletionResultType]::ParameterName, 'Ask in this protocol: bits sends a BITS Ping (BITS servers announce nothing on OPTIONS)')
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--header', '--header', [CompletionResultType]::ParameterName, 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)')
            [CompletionResult]::new('--token-env', '--token-env', [CompletionResultType]::ParameterName, 'Read a bearer token from this environment variable (sent as Authorization; never recorded)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)')
            [CompletionResult]::new('--ca-cert', '--ca-cert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print JSON Lines on stdout instead of tables and messages')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;serve' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Folder that receives the files (partial uploads wait in its .ferry-uploads/)')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on; anything but loopback needs --token-file and TLS (--tls-cert, --tls-key)')
            [CompletionResult]::new('--token-file', '--token-file', [CompletionResultType]::ParameterName, 'File holding the bearer token every request must carry')
            [CompletionResult]::new('--max-size', '--max-size', [CompletionResultType]::ParameterName, 'Refuse uploads larger than this (e.g. 64G; binary units); by default only free space limits them')
            [CompletionResult]::new('--max-append-size', '--max-append-size', [CompletionResultType]::ParameterName, 'Refuse requests carrying more than this many bytes of one upload (no limit by default)')
            [CompletionResult]::new('--max-uploads', '--max-uploads', [CompletionResultType]::ParameterName, 'Unfinished uploads held at once (tus, IETF, PUT bodies and BITS sessions); more get 503 until some finish or expire')
            [CompletionResult]::new('--max-connections', '--max-connections', [CompletionResultType]::ParameterName, 'Connections served at once; more wait in the listen backlog')
            [CompletionResult]::new('--expire-after', '--expire-after', [CompletionResultType]::ParameterName, 'Delete unfinished uploads not written to for this long (e.g. 24h, 7d)')
            [CompletionResult]::new('--forward', '--forward', [CompletionResultType]::ParameterName, 'Pass each completed, verified upload on to this backend in one plain request (PUT URL/<path>; the URL may hold {path}, {name}, {sha256})')
            [CompletionResult]::new('--forward-method', '--forward-method', [CompletionResultType]::ParameterName, 'Method of the forwarded request')
            [CompletionResult]::new('--forward-header', '--forward-header', [CompletionResultType]::ParameterName, 'Header for the forwarded request, ''Name: value'' with ${VAR} from the environment; never logged (repeatable; one per line in the variable)')
            [CompletionResult]::new('--forward-ca-cert', '--forward-ca-cert', [CompletionResultType]::ParameterName, 'Also trust the CA certificates in this PEM file for the --forward backend')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'PEM certificate chain for HTTPS (with --tls-key; reread on SIGHUP)')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'PEM private key of --tls-cert')
            [CompletionResult]::new('--allow-host', '--allow-host', [CompletionResultType]::ParameterName, 'A host name this server answers to, besides IP addresses and localhost (repeatable)')
            [CompletionResult]::new('--cors-origin', '--cors-origin', [CompletionResultType]::ParameterName, 'A web page origin allowed to upload from a browser, e.g. https://photos.example (repeatable)')
            [CompletionResult]::new('--keep', '--keep', [CompletionResultType]::ParameterName, 'Keep files in --dir after the backend took them (by default they are removed after a 2xx)')
            [CompletionResult]::new('--insecure-http', '--insecure-http', [CompletionResultType]::ParameterName, 'Listen beyond loopback without TLS, because a proxy in front ends TLS')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'ferry;generate' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Folder that receives completions/ and man/')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'ferry;help' {
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Scan folders, then upload what is new: the one-liner for cron and CI')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Sync, then keep watching the folders and upload new files once they settle')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Walk folders, hash media files and queue one upload job per new content (no network)')
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload the queued jobs (pending, or interrupted and resumable)')
            [CompletionResult]::new('jobs', 'jobs', [CompletionResultType]::ParameterValue, 'List jobs, optionally by state or by the action that applies to them')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Count jobs and bytes in each state')
            [CompletionResult]::new('retry', 'retry', [CompletionResultType]::ParameterValue, 'Put failed jobs back in the queue')
            [CompletionResult]::new('ack', 'ack', [CompletionResultType]::ParameterValue, 'Acknowledge finished jobs: take failures off the list and free room under the job limit')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Cancel jobs that have not finished')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Check that succeeded jobs'' files are at their destination with the same content')
            [CompletionResult]::new('probe', 'probe', [CompletionResultType]::ParameterValue, 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT, BITS)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout, e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and man pages (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'ferry;help;sync' {
            break
        }
        'ferry;help;watch' {
            break
        }
        'ferry;help;scan' {
            break
        }
        'ferry;help;upload' {
            break
        }
        'ferry;help;jobs' {
            break
        }
        'ferry;help;status' {
            break
        }
        'ferry;help;retry' {
            break
        }
        'ferry;help;ack' {
            break
        }
        'ferry;help;cancel' {
            break
        }
        'ferry;help;verify' {
            break
        }
        'ferry;help;probe' {
            break
        }
        'ferry;help;serve' {
            break
        }
        'ferry;help;completions' {
            break
        }
        'ferry;help;generate' {
            break
        }
        'ferry;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
