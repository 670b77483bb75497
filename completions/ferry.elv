
use builtin;
use str;

set edit:completion:arg-completer[ferry] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'ferry'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'ferry'= {
            cand --journal 'Journal file (see each command''s --journal)'
            cand --config 'Config file with named destinations'
            cand --wait-lock 'Wait this long for another run to release the journal'
            cand --job-limit 'At most this many unacknowledged jobs'
            cand --progress 'How uploads show their progress'
            cand --color 'Colour on stderr'
            cand --log-file 'Also append timestamped lines to this file'
            cand --json 'JSON Lines on stdout'
            cand -q 'Nothing on success'
            cand --quiet 'Nothing on success'
            cand -v 'Say more'
            cand --verbose 'Say more'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand sync 'Scan folders, then upload what is new: the one-liner for cron and CI'
            cand watch 'Sync, then keep watching the folders and upload new files once they settle'
            cand scan 'Walk folders, hash media files and queue one upload job per new content (no network)'
            cand upload 'Upload the queued jobs (pending, or interrupted and resumable)'
            cand jobs 'List jobs, optionally by state or by the action that applies to them'
            cand status 'Count jobs and bytes in each state'
            cand retry 'Put failed jobs back in the queue'
            cand ack 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
            cand cancel 'Cancel jobs that have not finished'
            cand verify 'Check that succeeded jobs'' files are at their destination with the same content'
            cand probe 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials'
            cand serve 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT, BITS)'
            cand completions 'Print shell completions to stdout, e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`'
            cand generate 'Write shell completions and man pages (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ferry;sync'= {
            cand --to 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder'
            cand --protocol 'Protocol for a URL destination; auto asks the server with OPTIONS'
            cand --max-depth 'Descend at most this many folders below each root'
            cand --include 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)'
            cand --exclude 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)'
            cand --min-size 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)'
            cand --max-size 'Leave out files larger than this (e.g. 4G)'
            cand --min-age 'Leave out files modified less than this long ago, still being written (e.g. 10m)'
            cand -j 'Upload this many jobs at once'
            cand --concurrency 'Upload this many jobs at once'
            cand --retries 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)'
            cand --chunk-size 'Send at most this much per request (default: the whole file, or the server''s limit)'
            cand --idle-timeout 'End a request when no byte has moved for this long, and retry'
            cand --ietf-version 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)'
            cand --put-method 'Method for the put protocol'
            cand --part-concurrency 'S3: send this many parts of one file at once'
            cand --bwlimit 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"'
            cand --max-duration 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run'
            cand --stop-at 'Like --max-duration, at this local time of day (HH:MM; tomorrow''s if today''s has passed)'
            cand --cutoff-mode 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish'
            cand --move-to 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --token-file 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)'
            cand --ca-cert 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)'
            cand --stats 'Without bars, print a progress line this often (e.g. 30s, 5m)'
            cand --failed-list 'At the end, write the paths of the listed failed jobs to this file, one per line'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How the work shows its progress: bars at a terminal, else lines'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand -L 'Follow symbolic links (loops are detected and reported)'
            cand --follow-links 'Follow symbolic links (loops are detected and reported)'
            cand --hidden 'Include hidden files and folders (names starting with a dot)'
            cand --all-files 'Take every file, not only images, videos and audio'
            cand --sidecars 'Also take sidecar files (XMP, AAE, THM)'
            cand --no-default-excludes 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
            cand --rehash 'Read and hash every file, even those unchanged since the last scan'
            cand -n 'Say what would be queued and write nothing'
            cand --dry-run 'Say what would be queued and write nothing'
            cand --overwrite 'S3: replace an object that holds different content (by default the job fails)'
            cand --delete-after 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)'
            cand --no-auto-ack 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand --verbose 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;watch'= {
            cand --to 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder'
            cand --protocol 'Protocol for a URL destination; auto asks the server with OPTIONS'
            cand --max-depth 'Descend at most this many folders below each root'
            cand --include 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)'
            cand --exclude 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)'
            cand --min-size 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)'
            cand --max-size 'Leave out files larger than this (e.g. 4G)'
            cand --min-age 'Leave out files modified less than this long ago, still being written (e.g. 10m)'
            cand -j 'Upload this many jobs at once'
            cand --concurrency 'Upload this many jobs at once'
            cand --retries 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)'
            cand --chunk-size 'Send at most this much per request (default: the whole file, or the server''s limit)'
            cand --idle-timeout 'End a request when no byte has moved for this long, and retry'
            cand --ietf-version 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)'
            cand --put-method 'Method for the put protocol'
            cand --part-concurrency 'S3: send this many parts of one file at once'
            cand --bwlimit 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"'
            cand --max-duration 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run'
            cand --stop-at 'Like --max-duration, at this local time of day (HH:MM; tomorrow''s if today''s has passed)'
            cand --cutoff-mode 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish'
            cand --move-to 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --token-file 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)'
            cand --ca-cert 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)'
            cand --stats 'Without bars, print a progress line this often (e.g. 30s, 5m)'
            cand --failed-list 'At the end, write the paths of the listed failed jobs to this file, one per line'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How the work shows its progress: bars at a terminal, else lines'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --settle 'Queue a new or changed file once its size and modification time have held still this long'
            cand --rescan 'Scan every folder again this often, to catch what no event announced (0: only after lost events)'
            cand -L 'Follow symbolic links (loops are detected and reported)'
            cand --follow-links 'Follow symbolic links (loops are detected and reported)'
            cand --hidden 'Include hidden files and folders (names starting with a dot)'
            cand --all-files 'Take every file, not only images, videos and audio'
            cand --sidecars 'Also take sidecar files (XMP, AAE, THM)'
            cand --no-default-excludes 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
            cand --rehash 'Read and hash every file, even those unchanged since the last scan'
            cand -n 'Say what would be queued and write nothing'
            cand --dry-run 'Say what would be queued and write nothing'
            cand --overwrite 'S3: replace an object that holds different content (by default the job fails)'
            cand --delete-after 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)'
            cand --no-auto-ack 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand --verbose 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;scan'= {
            cand --to 'Where the jobs upload to: a destination named in the config file, a URL (http://, https://, s3://, sftp://) or a local folder'
            cand --protocol 'Protocol for a URL destination; auto asks the server with OPTIONS'
            cand --max-depth 'Descend at most this many folders below each root'
            cand --include 'Only files matching this glob, relative to the root, gitignore style (repeatable; one per line in the variable)'
            cand --exclude 'Leave out files and folders matching this glob, gitignore style (repeatable; one per line in the variable; wins over --include)'
            cand --min-size 'Leave out files smaller than this (e.g. 1, 100k, 2M; binary units)'
            cand --max-size 'Leave out files larger than this (e.g. 4G)'
            cand --min-age 'Leave out files modified less than this long ago, still being written (e.g. 10m)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --progress 'How the work shows its progress: bars at a terminal, else lines'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand -L 'Follow symbolic links (loops are detected and reported)'
            cand --follow-links 'Follow symbolic links (loops are detected and reported)'
            cand --hidden 'Include hidden files and folders (names starting with a dot)'
            cand --all-files 'Take every file, not only images, videos and audio'
            cand --sidecars 'Also take sidecar files (XMP, AAE, THM)'
            cand --no-default-excludes 'Do not exclude NAS and OS junk (@eaDir, @__thumb, .DS_Store, ._*, Thumbs.db, desktop.ini, ...)'
            cand --rehash 'Read and hash every file, even those unchanged since the last scan'
            cand -n 'Say what would be queued and write nothing'
            cand --dry-run 'Say what would be queued and write nothing'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand --verbose 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;upload'= {
            cand --to 'Only the jobs for this destination (a configured name, a URL or a local folder)'
            cand -j 'Upload this many jobs at once'
            cand --concurrency 'Upload this many jobs at once'
            cand --retries 'Give up on a job after this many transient failures in a row (connection, 5xx, 429, stalls)'
            cand --chunk-size 'Send at most this much per request (default: the whole file, or the server''s limit)'
            cand --idle-timeout 'End a request when no byte has moved for this long, and retry'
            cand --ietf-version 'IETF draft interop version to speak (3, 5 and 6 for tusd, SwiftNIO and iOS 17/18 servers)'
            cand --put-method 'Method for the put protocol'
            cand --part-concurrency 'S3: send this many parts of one file at once'
            cand --bwlimit 'Cap the upload rate of all jobs together, e.g. 10M (bytes per second), or a timetable: "08:00,512k 19:00,10M 23:00,off"'
            cand --max-duration 'Start no new upload after this long (e.g. 2h), and stop the ones in flight (see --cutoff-mode); jobs left resume on the next run'
            cand --stop-at 'Like --max-duration, at this local time of day (HH:MM; tomorrow''s if today''s has passed)'
            cand --cutoff-mode 'At the end of the time window: hard stops the uploads in flight (they resume), soft lets them finish'
            cand --move-to 'Move each source file under DIR (keeping its path below the scanned folder) once its upload is verified end to end'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --token-file 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)'
            cand --ca-cert 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)'
            cand --stats 'Without bars, print a progress line this often (e.g. 30s, 5m)'
            cand --failed-list 'At the end, write the paths of the listed failed jobs to this file, one per line'
            cand --progress 'How the work shows its progress: bars at a terminal, else lines'
            cand --log-file 'Also append plain timestamped lines to this file, whatever the terminal shows'
            cand --color 'Colour on stderr: auto is on at a terminal unless NO_COLOR is set'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --overwrite 'S3: replace an object that holds different content (by default the job fails)'
            cand --delete-after 'Delete each source file once its upload is verified end to end (the destination confirmed its SHA-256)'
            cand --no-auto-ack 'Leave succeeded jobs unacknowledged, for scripts that read their responses first'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -v 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand --verbose 'Say more: each job as it starts and finishes, what a scan left out and why'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;jobs'= {
            cand --state 'Only jobs in this state (repeatable; comma-separated in the variable)'
            cand --action 'Only jobs this action applies to'
            cand --to 'Only jobs for this destination (a configured name, a URL or a local folder)'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;status'= {
            cand --to 'Only jobs for this destination (a configured name, a URL or a local folder)'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --job-limit 'At most this many jobs may be unacknowledged; scans stop there'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;retry'= {
            cand --to 'Send the retried jobs to this destination instead (a configured name, a URL or a local folder)'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --all 'Every failed job that is not acknowledged'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;ack'= {
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --failed 'Every failed job not yet acknowledged'
            cand --succeeded 'Every succeeded job not yet acknowledged'
            cand --all 'Every succeeded or failed job not yet acknowledged'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;cancel'= {
            cand --to 'With --pending, only the jobs for this destination (a configured name, a URL or a local folder)'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --token-file 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)'
            cand --ca-cert 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --pending 'Every job not yet finished (pending or registered)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;verify'= {
            cand --to 'Only jobs for this destination (a configured name, a URL or a local folder)'
            cand -j 'Check this many jobs at once'
            cand --concurrency 'Check this many jobs at once'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --token-file 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)'
            cand --ca-cert 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)'
            cand --progress 'How the work shows its progress: bars at a terminal, else lines'
            cand --journal 'Journal file to use instead of the default, journals/default.jsonl in the data directory (~/.local/share/ferry/ on Linux)'
            cand --wait-lock 'Wait this long for another run to release the journal instead of failing (e.g. 30s, 5m)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --requeue 'Put jobs whose file is missing or different back in the queue, for the next upload'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -q 'Print nothing on success; on failure, the errors and the failures list'
            cand --quiet 'Print nothing on success; on failure, the errors and the failures list'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;probe'= {
            cand --to 'The same as DEST (which wins when both are given), for scripts that set FERRY_TO for sync'
            cand --protocol 'Ask in this protocol: bits sends a BITS Ping (BITS servers announce nothing on OPTIONS)'
            cand -H 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --header 'Send this header with every request, e.g. -H ''X-Api-Key: ...'' (repeatable; one per line in the variable; never recorded)'
            cand --token-env 'Read a bearer token from this environment variable (sent as Authorization; never recorded)'
            cand --token-file 'Read a bearer token from this file instead (read again by each run and each batch of a watch; never recorded)'
            cand --ca-cert 'Also trust the CA certificates in this PEM file (a private CA, a self-signed ferry serve)'
            cand --config 'Config file with named destinations, instead of config.toml in the config directory (~/.config/ferry/ on Linux)'
            cand --json 'Print JSON Lines on stdout instead of tables and messages'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;serve'= {
            cand --dir 'Folder that receives the files (partial uploads wait in its .ferry-uploads/)'
            cand --listen 'Address to listen on; anything but loopback needs --token-file and TLS (--tls-cert, --tls-key)'
            cand --token-file 'File holding the bearer token every request must carry'
            cand --max-size 'Refuse uploads larger than this (e.g. 64G; binary units); by default only free space limits them'
            cand --max-append-size 'Refuse requests carrying more than this many bytes of one upload (no limit by default)'
            cand --max-uploads 'Unfinished uploads held at once (tus, IETF, PUT bodies and BITS sessions); more get 503 until some finish or expire'
            cand --max-connections 'Connections served at once; more wait in the listen backlog'
            cand --expire-after 'Delete unfinished uploads not written to for this long (e.g. 24h, 7d)'
            cand --forward 'Pass each completed, verified upload on to this backend in one plain request (PUT URL/<path>; the URL may hold {path}, {name}, {sha256})'
            cand --forward-method 'Method of the forwarded request'
            cand --forward-header 'Header for the forwarded request, ''Name: value'' with ${VAR} from the environment; never logged (repeatable; one per line in the variable)'
            cand --forward-ca-cert 'Also trust the CA certificates in this PEM file for the --forward backend'
            cand --tls-cert 'PEM certificate chain for HTTPS (with --tls-key; reread on SIGHUP)'
            cand --tls-key 'PEM private key of --tls-cert'
            cand --allow-host 'A host name this server answers to, besides IP addresses and localhost (repeatable)'
            cand --cors-origin 'A web page origin allowed to upload from a browser, e.g. https://photos.example (repeatable)'
            cand --keep 'Keep files in --dir after the backend took them (by default they are removed after a 2xx)'
            cand --insecure-http 'Listen beyond loopback without TLS, because a proxy in front ends TLS'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;completions'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'ferry;generate'= {
            cand --dir 'Folder that receives completions/ and man/'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'ferry;help'= {
            cand sync 'Scan folders, then upload what is new: the one-liner for cron and CI'
            cand watch 'Sync, then keep watching the folders and upload new files once they settle'
            cand scan 'Walk folders, hash media files and queue one upload job per new content (no network)'
            cand upload 'Upload the queued jobs (pending, or interrupted and resumable)'
            cand jobs 'List jobs, optionally by state or by the action that applies to them'
            cand status 'Count jobs and bytes in each state'
            cand retry 'Put failed jobs back in the queue'
            cand ack 'Acknowledge finished jobs: take failures off the list and free room under the job limit'
            cand cancel 'Cancel jobs that have not finished'
            cand verify 'Check that succeeded jobs'' files are at their destination with the same content'
            cand probe 'Ask a destination what it speaks (protocols, extensions, limits) and whether it takes the credentials'
            cand serve 'Receive uploads: a resumable upload server (IETF draft, tus 1.0, plain PUT, BITS)'
            cand completions 'Print shell completions to stdout, e.g. `ferry completions bash > ~/.local/share/bash-completion/completions/ferry`'
            cand generate 'Write shell completions and man pages (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'ferry;help;sync'= {
        }
        &'ferry;help;watch'= {
        }
        &'ferry;help;scan'= {
        }
        &'ferry;help;upload'= {
        }
        &'ferry;help;jobs'= {
        }
        &'ferry;help;status'= {
        }
        &'ferry;help;retry'= {
        }
        &'ferry;help;ack'= {
        }
        &'ferry;help;cancel'= {
        }
        &'ferry;help;verify'= {
        }
        &'ferry;help;probe'= {
        }
        &'ferry;help;serve'= {
        }
        &'ferry;help;completions'= {
        }
        &'ferry;help;generate'= {
        }
        &'ferry;help;help'= {
        }
    ]
    $completions[$command]
}
