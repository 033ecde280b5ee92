/**
 * files: the model's file tools, confined to the workspace by the host (fs.read/fs.write:$WORKSPACE,
 * realpath containment, credential files never writable). read_file shows numbered lines, write_file and
 * patch change files through the host's atomic write and record a checkpoint first, search_files finds
 * names and contents the way git sees the tree. `caduceus files undo` rolls writes back.
 *
 * On by default: without file tools a model can only talk, and these reach nothing outside the workspace.
 */
import { definePlugin } from 'caduceus/sdk';
import { readFile } from './read.js';
import { patch, writeFile } from './write.js';
import { searchFiles } from './search.js';
import { filesCommand } from './undo-command.js';

export default definePlugin({ tools: [readFile, writeFile, patch, searchFiles], commands: [filesCommand] });
