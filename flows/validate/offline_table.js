/* A stand-in for the bootstrap-table plugin, written by this project (flows/validate/data_docs.py
   ships it with the validation report instead of the plugin, which has no pip package).

   Great Expectations' index page calls $(table).bootstrapTable({columns, data, ...}) to list its
   validation results and expectation suites. This renders the same columns and rows as a plain
   Bootstrap table, sorted as asked, each row a link (GX's own row attributes and click handler),
   without the plugin's search and filter controls (their toolbar is hidden). The cells hold the
   HTML GX generated for them, as the plugin renders it (status icons, links). */
(function ($) {
  "use strict";

  function named(option) {
    return typeof option === "string" ? window[option] : option;
  }

  function sortRows(rows, columns, options) {
    if (!options.sortName) {
      return rows;
    }
    var column = columns.filter(function (c) { return c.field === options.sortName; })[0] || {};
    var key = column.sortName || options.sortName;
    var sign = options.sortOrder === "desc" ? -1 : 1;
    return rows.slice().sort(function (a, b) {
      var x = a[key], y = b[key];
      return x === y ? 0 : (x > y ? sign : -sign);
    });
  }

  function render($table, options) {
    var columns = options.columns || [];
    var rows = sortRows(options.data || [], columns, options);
    var rowAttributes = named(options.rowAttributes);
    var rowStyle = named(options.rowStyle);
    var $head = $("<tr>");
    columns.forEach(function (c) {
      $head.append($("<th>").text(c.title || c.field).css("text-align", c.align || ""));
    });
    var $body = $("<tbody>");
    rows.forEach(function (row, i) {
      var $tr = $("<tr>");
      if (typeof rowAttributes === "function") {
        $tr.attr(rowAttributes(row, i));
      }
      if (typeof rowStyle === "function") {
        $tr.css((rowStyle(row, i) || {}).css || {});
      }
      columns.forEach(function (c) {
        var value = row[c.field];
        $tr.append($("<td>").css("text-align", c.align || "").html(value === undefined || value === null ? "" : String(value)));
      });
      $tr.on("click", function () { $table.trigger("click-row.bs.table", [row, $tr]); });
      $body.append($tr);
    });
    $table.addClass("table table-hover offline-table").empty().append($("<thead>").append($head), $body);
    if (options.toolbar) {
      $(options.toolbar).hide();
    }
  }

  $.fn.bootstrapTable = function (options) {
    if (typeof options !== "object" || options === null) {
      return this;  // the plugin's methods (clear filters, reset search): nothing to clear here
    }
    return this.each(function () { render($(this), options); });
  };
})(jQuery);
