/** `create`/`run` flags (the parser reads them for every command line, run-opts.ts only for run and create). */
import type { OptSpec } from './flags.ts';

export const RUN_FLAGS: readonly OptSpec[] = [
  ['-a, --attach <list>', 'l'], ['-d, --detach', 'b'], ['-i, --interactive', 'b'], ['-t, --tty', 'b'], ['--rm', 'b'],
  ['--name <string>', 's'], ['--platform <string>', 's'], ['-e, --env <list>', 'l'], ['--env-file <list>', 'l'],
  ['-w, --workdir <string>', 's'], ['-u, --user <string>', 's'], ['--entrypoint <string>', 's'], ['-h, --hostname <string>', 's'],
  ['--domainname <string>', 's'], ['-l, --label <list>', 'l'], ['--label-file <list>', 'l'], ['--init', 'b'],
  ['--network <network>', 's'], ['--net <network>', 's'], ['--network-alias <list>', 'l'], ['--ip <string>', 's'], ['--mac-address <string>', 's'],
  ['--stop-signal <string>', 's'], ['--stop-timeout <int>', 's'], ['--privileged', 'b'], ['--cap-add <list>', 'l'],
  ['--cap-drop <list>', 'l'], ['--read-only', 'b'], ['--security-opt <list>', 'l'], ['--ulimit <ulimit>', 'l'],
  ['-m, --memory <bytes>', 's'], ['--memory-swap <bytes>', 's'], ['--memory-reservation <bytes>', 's'], ['--memory-swappiness <int>', 's'],
  ['--oom-kill-disable', 'b'], ['--oom-score-adj <int>', 's'], ['--cpus <decimal>', 's'], ['-c, --cpu-shares <int>', 's'], ['--cpuset-cpus <string>', 's'],
  ['--cpuset-mems <string>', 's'], ['--cpu-period <int>', 's'], ['--cpu-quota <int>', 's'], ['--pids-limit <int>', 's'], ['--shm-size <bytes>', 's'],
  ['--blkio-weight <uint16>', 's'], ['--blkio-weight-device <list>', 'l'], ['--device-read-bps <list>', 'l'], ['--device-write-bps <list>', 'l'],
  ['--device-read-iops <list>', 'l'], ['--device-write-iops <list>', 'l'],
  ['-p, --publish <list>', 'l'], ['-P, --publish-all', 'b'], ['--expose <list>', 'l'], ['-v, --volume <list>', 'l'], ['--mount <mount>', 'l'],
  ['--tmpfs <list>', 'l'], ['--volumes-from <list>', 'l'], ['--volume-driver <string>', 's'], ['--restart <string>', 's'], ['--log-driver <string>', 's'],
  ['--log-opt <list>', 'l'], ['--add-host <list>', 'l'], ['--dns <list>', 'l'], ['--dns-search <list>', 'l'], ['--dns-option <list>', 'l'],
  ['--ipc <string>', 's'], ['--pid <string>', 's'], ['--uts <string>', 's'], ['--userns <string>', 's'], ['--cgroupns <string>', 's'],
  ['--cgroup-parent <string>', 's'], ['--group-add <list>', 'l'], ['--device <list>', 'l'], ['--sysctl <map>', 'l'], ['--runtime <string>', 's'],
  ['--isolation <string>', 's'], ['--link <list>', 'l'], ['--cidfile <string>', 's'], ['--sig-proxy', 'b', true], ['--no-sig-proxy', 'b'],
  ['--detach-keys <string>', 's'], ['--pull <string>', 's'], ['-q, --quiet', 'b'], ['--health-cmd <string>', 's'],
  ['--health-interval <duration>', 's'], ['--health-timeout <duration>', 's'], ['--health-retries <int>', 's'],
  ['--health-start-period <duration>', 's'], ['--no-healthcheck', 'b'], ['--storage-opt <list>', 'l'],
];
