import type { FileContent, FileStore } from "../../src/core/files.js";

/** A FileStore whose reads of a file's bytes (a vector store's ingestion) wait until `open()`. */
export function gatedFileStore(files: FileStore): { files: FileStore; open(): void } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    files: {
      createFile: (f, d) => files.createFile(f, d),
      getFile: (id) => files.getFile(id),
      listFiles: (o) => files.listFiles(o),
      deleteFile: (id) => files.deleteFile(id),
      fileContent: async (id): Promise<FileContent | undefined> => {
        await gate;
        return files.fileContent(id);
      },
    },
    open,
  };
}
