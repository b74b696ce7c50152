//! Rows of the first worksheet of an .xlsx workbook, streamed.
//!
//! calamine's streaming cell reader borrows the workbook, so it cannot live
//! in the same struct as the workbook without unsafe code. The workbook is
//! therefore read on a worker thread that sends batches of rows over a
//! bounded channel: memory stays bounded for sheets of a million rows, and a
//! panic inside the third-party parser on a damaged file is contained in the
//! worker and reported as an error instead of taking the vault down.

use std::io::{Read, Seek};
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

use calamine::{Reader, SheetType, Xlsx, XlsxError};

use crate::error::{ImportError, RowError};
use crate::excel_value::cell_text;
use crate::header::display_header;
use crate::resolve::ResolvedMapping;
use crate::row::{ImportRow, RowCells};

const ROWS_PER_BATCH: usize = 256;
/// Excel's column limit (XFD). Cells beyond it only occur in crafted files;
/// they are ignored so a bogus reference cannot size the header row.
const MAX_COLUMNS: usize = 16_384;
const BATCHES_IN_FLIGHT: usize = 4;

/// One non-empty cell.
#[derive(Debug)]
struct SheetCell {
    column: usize,
    value: Result<String, String>,
}

/// A sheet row with at least one non-empty cell.
#[derive(Debug)]
struct SheetRow {
    /// 1-based row number as Excel shows it.
    number: u64,
    cells: Vec<SheetCell>,
}

impl SheetRow {
    fn is_blank(&self) -> bool {
        self.cells.iter().all(|cell| cell.value.as_ref().is_ok_and(|text| text.trim().is_empty()))
    }
}

enum WorkerMessage {
    /// The worksheet was found; its declared last row (1-based), if any.
    Opened {
        last_row: Option<u64>,
    },
    Rows(Vec<SheetRow>),
    Finished,
    Failed(String),
}

pub(crate) struct SheetRows {
    receiver: Receiver<WorkerMessage>,
    pending: std::vec::IntoIter<SheetRow>,
    last_row: Option<u64>,
    header_row: u64,
    current_row: u64,
    /// Column → index into the current row's cells; reused across rows.
    cell_index: Vec<Option<usize>>,
    finished: bool,
}

impl SheetRows {
    /// Starts reading `input` and returns the rows source and the header row
    /// (the first row with any text).
    pub(crate) fn open<RS>(input: RS) -> Result<(Self, Vec<String>), ImportError>
    where
        RS: Read + Seek + Send + 'static,
    {
        let (sender, receiver) = mpsc::sync_channel(BATCHES_IN_FLIGHT);
        thread::Builder::new().name("tutela-xlsx-reader".to_owned()).spawn(move || run_worker(input, &sender))?;
        let last_row = match receiver.recv() {
            Ok(WorkerMessage::Opened { last_row }) => last_row,
            Ok(WorkerMessage::Failed(message)) => return Err(ImportError::Xlsx(message)),
            Ok(_) | Err(_) => return Err(ImportError::Xlsx(WORKER_LOST.to_owned())),
        };
        let mut rows = Self {
            receiver,
            pending: Vec::new().into_iter(),
            last_row,
            header_row: 0,
            current_row: 0,
            cell_index: Vec::new(),
            finished: false,
        };
        let header = loop {
            match rows.next_sheet_row() {
                None => return Err(ImportError::Empty),
                Some(Err(error)) => return Err(ImportError::Xlsx(error.message)),
                Some(Ok(row)) if row.is_blank() => {}
                Some(Ok(row)) => break row,
            }
        };
        let width = header.cells.iter().map(|c| c.column + 1).max().unwrap_or(0);
        let mut headers = vec![String::new(); width];
        for cell in header.cells {
            headers[cell.column] = display_header(cell.value.as_deref().unwrap_or_else(|text| text));
        }
        rows.header_row = header.number;
        rows.cell_index = vec![None; width];
        Ok((rows, headers))
    }

    /// Data rows the sheet declares after the header, when it declares its size.
    pub(crate) fn total_rows(&self) -> Option<u64> {
        self.last_row.map(|last| last.saturating_sub(self.header_row))
    }

    /// Sheet row number reached so far.
    pub(crate) fn current_row(&self) -> u64 {
        self.current_row
    }

    pub(crate) fn last_row(&self) -> Option<u64> {
        self.last_row
    }

    pub(crate) fn next_row(&mut self, mapping: &ResolvedMapping) -> Option<Result<ImportRow, RowError>> {
        loop {
            let row = match self.next_sheet_row()? {
                Ok(row) => row,
                Err(error) => return Some(Err(error)),
            };
            if row.is_blank() {
                continue;
            }
            self.cell_index.fill(None);
            for (position, cell) in row.cells.iter().enumerate() {
                // Cells right of the header row have no column name; they
                // are stray notes or totals, not data, and are ignored.
                if let Some(slot) = self.cell_index.get_mut(cell.column) {
                    *slot = Some(position);
                }
            }
            let cells = IndexedCells { row: &row, index: &self.cell_index };
            return Some(mapping.build_row(row.number, &cells));
        }
    }

    fn next_sheet_row(&mut self) -> Option<Result<SheetRow, RowError>> {
        loop {
            if let Some(row) = self.pending.next() {
                self.current_row = row.number;
                return Some(Ok(row));
            }
            if self.finished {
                return None;
            }
            let failure = match self.receiver.recv() {
                Ok(WorkerMessage::Rows(batch)) => {
                    self.pending = batch.into_iter();
                    continue;
                }
                Ok(WorkerMessage::Finished) => {
                    self.finished = true;
                    return None;
                }
                Ok(WorkerMessage::Failed(message)) => message,
                Ok(WorkerMessage::Opened { .. }) | Err(_) => WORKER_LOST.to_owned(),
            };
            self.finished = true;
            return Some(Err(RowError::row(
                self.current_row + 1,
                format!("the rest of the sheet cannot be read: {failure}"),
            )));
        }
    }
}

struct IndexedCells<'a> {
    row: &'a SheetRow,
    index: &'a [Option<usize>],
}

impl RowCells for IndexedCells<'_> {
    fn cell(&self, column: usize) -> Result<&str, String> {
        let Some(Some(position)) = self.index.get(column) else {
            return Ok("");
        };
        match self.row.cells.get(*position).map(|cell| &cell.value) {
            Some(Ok(text)) => Ok(text),
            Some(Err(excel_error)) => {
                Err(format!("the cell holds the Excel error {excel_error}; correct the formula or clear the cell"))
            }
            None => Ok(""),
        }
    }
}

const WORKER_LOST: &str = "the workbook reader stopped unexpectedly; the file may be damaged";

fn run_worker<RS: Read + Seek>(input: RS, sender: &SyncSender<WorkerMessage>) {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| read_workbook(input, sender)));
    let last = match outcome {
        Ok(Ok(())) => WorkerMessage::Finished,
        Ok(Err(message)) => WorkerMessage::Failed(message),
        Err(_) => WorkerMessage::Failed(
            "the workbook could not be read; it may be damaged: open it in Excel and save it again".to_owned(),
        ),
    };
    // The reader may have been dropped already; nobody is left to tell.
    let _ = sender.send(last);
}

/// Sends the rows of the first worksheet; `Ok` also when the receiver went
/// away (the import was abandoned).
fn read_workbook<RS: Read + Seek>(input: RS, sender: &SyncSender<WorkerMessage>) -> Result<(), String> {
    let mut workbook: Xlsx<RS> = Xlsx::new(input).map_err(|e| describe(&e))?;
    let sheet = workbook
        .sheets_metadata()
        .iter()
        .find(|sheet| sheet.typ == SheetType::WorkSheet)
        .map(|sheet| sheet.name.clone())
        .ok_or("the workbook has no worksheet")?;
    let mut cells = workbook.worksheet_cells_reader(&sheet).map_err(|e| describe(&e))?;
    let dimensions = cells.dimensions();
    let last_row = (dimensions.end.0 > 0).then(|| u64::from(dimensions.end.0) + 1);
    if sender.send(WorkerMessage::Opened { last_row }).is_err() {
        return Ok(());
    }

    let mut batch: Vec<SheetRow> = Vec::with_capacity(ROWS_PER_BATCH);
    let mut current: Option<SheetRow> = None;
    while let Some(cell) = cells.next_cell().map_err(|e| describe(&e))? {
        let (row, column) = cell.get_position();
        let Some(column) = usize::try_from(column).ok().filter(|&c| c < MAX_COLUMNS) else {
            continue;
        };
        let Some(value) = cell_text(cell.get_value()).transpose() else {
            continue;
        };
        let number = u64::from(row) + 1;
        let cell = SheetCell { column, value };
        match current.as_mut() {
            Some(open) if open.number == number => open.cells.push(cell),
            _ => {
                if let Some(done) = current.replace(SheetRow { number, cells: vec![cell] }) {
                    batch.push(done);
                    if batch.len() == ROWS_PER_BATCH
                        && sender.send(WorkerMessage::Rows(std::mem::take(&mut batch))).is_err()
                    {
                        return Ok(());
                    }
                }
            }
        }
    }
    batch.extend(current);
    if !batch.is_empty() {
        // A closed channel means the import was abandoned; not an error.
        let _ = sender.send(WorkerMessage::Rows(batch));
    }
    Ok(())
}

fn describe(error: &XlsxError) -> String {
    match error {
        XlsxError::Password => {
            "the workbook is password-protected; remove the password in Excel and try again".to_owned()
        }
        XlsxError::Zip(_) => format!(
            "the file is not a valid .xlsx workbook (its zip container cannot be read: {error}); \
             open it in Excel and save it again"
        ),
        _ => format!("the workbook cannot be read ({error}); open it in Excel and save it again"),
    }
}
